# The two commands of the README:
#   make run    build and run Ward (embedded PostgreSQL, dev TLS, console outbox)
#   make test   install what the tests need and run them all
.PHONY: run build test bench sqlc

build:
	go build -o ward ./cmd/ward

run: build
	bash scripts/deps.sh postgres
	./ward serve

test:
	bash scripts/test.sh

bench: build
	bash scripts/deps.sh postgres
	./ward bench
	go test -run '^$$' -bench . -benchtime 2s ./internal/vault/envelope/ ./internal/vault/docstream/ ./internal/gateway/phi/ ./internal/audit/ ./internal/audit/export/ ./internal/audit/sink/ ./internal/httpapi/

sqlc:
	bash scripts/deps.sh sqlc
	.bin/sqlc generate
