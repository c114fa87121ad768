#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs and starts what the tests need
# (PostgreSQL server binaries, mailpit, versitygw, Chromium), then vets and tests every package.
# Tests that need a service fail, never skip, when it is missing. Tests that
# score against the development data in ../shared/data are skipped, with the
# reason, when it is absent, unless WARD_REQUIRE_DATA=1 (CI sets it).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
export CI="${CI:-true}"
bash scripts/deps.sh test
unformatted="$(gofmt -l cmd internal)"
if [ -n "$unformatted" ]; then
  echo "gofmt needed:"; echo "$unformatted"; exit 1
fi
# The generated query code must match internal/postgres/queries.
bash scripts/deps.sh sqlc
"$repo/.bin/sqlc" diff
go vet ./...
if [ -z "${WARD_SHARED_DIR:-}" ] && [ ! -d "$repo/../shared/data" ]; then
  echo "note: ../shared/data is not beside this clone: the de-identification accuracy tests, which score" \
       "against licensed development data that is not in the repository, are reported as skipped" >&2
fi
go test -count=1 -timeout 30m ./...
