#!/usr/bin/env bash
# Installs what Ward needs on a fresh Debian machine with Go:
#   postgres  the PostgreSQL server binaries (initdb, pg_ctl), from Debian's packages
#   test      postgres, plus mailpit (SMTP server with an HTTP API) for the mail tests and
#             versitygw (S3 server with Object Lock) for the audit archive tests
#   sqlc      the sqlc code generator (pinned), for `make sqlc` and the staleness check
#   validators  Node.js (Debian packages nodejs, npm) and the independent validators and clients the
#             audit export, sink and gateway tests run (scripts/validators: the FHIR R4 JSON schema,
#             ajv, standardwebhooks, nsyslog-parser, the official TypeScript SDK of the Anthropic
#             API; pinned by its package-lock.json)
#   browser   Chromium (Debian package chromium), which the web console's tests drive headless
# Usage: scripts/deps.sh postgres|sqlc|validators|browser|test
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

have_postgres() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

# apt_install installs Debian packages, as root or through sudo (a plain
# message and exit 1 when neither is possible).
apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: run as root or install sudo: apt-get install -y $*" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

install_postgres() {
  if have_postgres; then return 0; fi
  echo "deps: installing the PostgreSQL server (Debian package postgresql)" >&2
  apt_install postgresql
  have_postgres || { echo "deps: PostgreSQL server binaries still not found" >&2; exit 1; }
}

install_sqlc() {
  local want="v1.31.1"
  if [ -x "$repo/.bin/sqlc" ] && [ "$("$repo/.bin/sqlc" version 2>/dev/null)" = "$want" ]; then return 0; fi
  echo "deps: building sqlc $want (a minute or two the first time)" >&2
  GOBIN="$repo/.bin" go install "github.com/sqlc-dev/sqlc/cmd/sqlc@$want"
}

install_validators() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "deps: installing Node.js (Debian packages nodejs, npm)" >&2
    apt_install nodejs npm
  fi
  local dir="$repo/scripts/validators"
  if [ -f "$dir/node_modules/.package-lock.json" ] && cmp -s "$dir/package-lock.json" "$dir/node_modules/.ward-lock"; then
    return 0
  fi
  echo "deps: installing the validators (npm ci in scripts/validators)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$dir/node_modules/.ward-lock"
}

install_browser() {
  if command -v chromium >/dev/null 2>&1 || [ -n "${WARD_CHROMIUM:-}" ]; then return 0; fi
  echo "deps: installing Chromium (Debian package chromium) for the console's browser tests" >&2
  apt_install chromium
  command -v chromium >/dev/null 2>&1 || { echo "deps: chromium still not found" >&2; exit 1; }
}

case "${1:-}" in
  postgres) install_postgres ;;
  sqlc) install_sqlc ;;
  validators) install_validators ;;
  browser) install_browser ;;
  test)
    install_postgres
    bash "$repo/scripts/mailpit.sh" install
    bash "$repo/scripts/versitygw.sh" install
    install_sqlc
    install_validators
    install_browser
    ;;
  *) echo "usage: scripts/deps.sh postgres|sqlc|validators|browser|test" >&2; exit 2 ;;
esac
