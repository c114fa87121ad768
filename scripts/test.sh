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
# The time-out is per package: internal/httpapi's 324 tests alone took 31
# minutes of wall time on a 2-core machine at load 9 to 24 (2026-12-07),
# so 30 minutes could kill a run that was only slow.
go test -count=1 -timeout 60m ./...
