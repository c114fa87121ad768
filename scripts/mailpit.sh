#!/usr/bin/env bash
# mailpit.sh: install and run a loopback-only Mailpit for Ward's mail tests.
#
#   scripts/mailpit.sh install   build mailpit into $REPO/.bin if missing
#   scripts/mailpit.sh start     install if needed, start on 127.0.0.1, wait for /readyz
#   scripts/mailpit.sh stop      stop the instance started by "start"
#   scripts/mailpit.sh status    report whether it is running
#
# Ports: MAILPIT_HTTP_PORT (default 18025), MAILPIT_SMTP_PORT (default 11025);
# pass the same ones to stop/status. The pid and log files are
# $REPO/.bin/mailpit-$MAILPIT_HTTP_PORT.{pid,log}.
# SMTP accepts any AUTH credentials, or none, in clear text (loopback only).
# Mailpit is bound to loopback, makes no outbound calls (--disable-version-check)
# and keeps its mailbox in a temporary database removed on exit.
set -euo pipefail

MAILPIT_VERSION=v1.27.11
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR=$REPO/.bin
BIN=$BIN_DIR/mailpit
HTTP_PORT=${MAILPIT_HTTP_PORT:-18025}
SMTP_PORT=${MAILPIT_SMTP_PORT:-11025}
# One instance per HTTP port; logs are errors only (--quiet), never bodies.
PID_FILE=$BIN_DIR/mailpit-$HTTP_PORT.pid
LOG_FILE=$BIN_DIR/mailpit-$HTTP_PORT.log
READY_URL=http://127.0.0.1:$HTTP_PORT/readyz

die() { echo "mailpit.sh: $*" >&2; exit 1; }

install() {
	command -v go >/dev/null || die "go is not on PATH"
	# "mailpit version" says "dev" for go-installed builds and calls GitHub, so
	# read the module version recorded in the binary instead.
	if [[ -x $BIN ]] && go version -m "$BIN" 2>/dev/null |
		grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/axllent/mailpit[[:space:]]+${MAILPIT_VERSION}[[:space:]]"; then
		return 0
	fi
	mkdir -p "$BIN_DIR"
	echo "mailpit.sh: installing mailpit ${MAILPIT_VERSION} into $BIN_DIR (takes about a minute)" >&2
	# "go install pkg@version" ignores Ward's go.mod; running it from .bin
	# makes that obvious and leaves go.mod/go.sum untouched.
	(cd "$BIN_DIR" && GOBIN=$BIN_DIR go install "github.com/axllent/mailpit@${MAILPIT_VERSION}")
	[[ -x $BIN ]] || die "go install finished but $BIN is missing"
}

running_pid() {
	[[ -f $PID_FILE ]] || return 1
	local pid
	pid=$(cat "$PID_FILE")
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

ready() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$READY_URL" 2>/dev/null) || true
	[[ $code == 200 ]]
}

start() {
	install
	command -v curl >/dev/null || die "curl is required to wait for readiness"
	local pid
	if pid=$(running_pid); then
		wait_ready "$pid"
		echo "mailpit.sh: already running (pid $pid), SMTP 127.0.0.1:$SMTP_PORT, HTTP 127.0.0.1:$HTTP_PORT" >&2
		return 0
	fi
	if ready; then
		die "something else already answers on 127.0.0.1:$HTTP_PORT; set MAILPIT_HTTP_PORT"
	fi
	nohup "$BIN" \
		--listen "127.0.0.1:$HTTP_PORT" \
		--smtp "127.0.0.1:$SMTP_PORT" \
		--disable-version-check \
		--smtp-disable-rdns \
		--smtp-auth-accept-any \
		--smtp-auth-allow-insecure \
		--quiet \
		>"$LOG_FILE" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$PID_FILE"
	wait_ready "$pid"
	echo "mailpit.sh: running (pid $pid), SMTP 127.0.0.1:$SMTP_PORT, HTTP 127.0.0.1:$HTTP_PORT" >&2
}

# wait_ready PID waits up to 20 s for /readyz to answer 200.
wait_ready() {
	local pid=$1
	local deadline=$((SECONDS + 20))
	until ready; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$PID_FILE"
			die "mailpit exited during start-up; see $LOG_FILE:
$(tail -n 20 "$LOG_FILE")"
		fi
		if ((SECONDS >= deadline)); then
			kill "$pid" 2>/dev/null || true
			rm -f "$PID_FILE"
			die "mailpit did not answer 200 on $READY_URL within 20 s; see $LOG_FILE"
		fi
		sleep 0.2
	done
}

stop() {
	local pid
	if ! pid=$(running_pid); then
		rm -f "$PID_FILE"
		echo "mailpit.sh: not running" >&2
		return 0
	fi
	kill "$pid"
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$PID_FILE"
	echo "mailpit.sh: stopped (pid $pid)" >&2
}

status() {
	local pid
	if pid=$(running_pid); then
		echo "mailpit.sh: running (pid $pid)"
	else
		echo "mailpit.sh: not running"
		return 1
	fi
}

case ${1:-} in
install) install ;;
start) start ;;
stop) stop ;;
status) status ;;
*) die "usage: $0 install|start|stop|status" ;;
esac
