#!/usr/bin/env bash
# plain-clone.sh: prove that the README's test command passes on a plain
# clone, as a new user gets it: no ../shared beside it, nothing but what is
# committed. Clones HEAD into a temporary directory and runs `make test`
# there. Tools already built in .bin (mailpit, versitygw, sqlc) are reused
# to save minutes (versitygw alone takes about three to build); the clone's
# own scripts check their versions and rebuild a stale one.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# PostgreSQL (run as the postgres user) must be able to reach the clone.
chmod 755 "$tmp"
git clone -q "$repo" "$tmp/ward"
if [ -d "$repo/.bin" ]; then
  mkdir -p "$tmp/ward/.bin"
  for tool in mailpit versitygw sqlc; do
    [ -x "$repo/.bin/$tool" ] && cp "$repo/.bin/$tool" "$tmp/ward/.bin/"
  done
fi
[ ! -e "$tmp/shared" ] || { echo "plain-clone: $tmp/shared exists" >&2; exit 1; }
echo "plain-clone: running make test in $tmp/ward (no ../shared)" >&2
(cd "$tmp/ward" && env -u WARD_SHARED_DIR -u WARD_REQUIRE_DATA make test)
echo "plain-clone: make test passed on a plain clone" >&2
