#!/usr/bin/env bash
# versitygw.sh: install and run a loopback-only versitygw (an S3 server with
# Object Lock, https://github.com/versity/versitygw) for Ward's archive tests.
#
#   scripts/versitygw.sh install   build versitygw into $REPO/.bin if missing
#   scripts/versitygw.sh start     install if needed, start on 127.0.0.1, wait for /health
#   scripts/versitygw.sh stop      stop the instance started by "start"
#   scripts/versitygw.sh status    report whether it is running
#
# Port: VERSITYGW_PORT (default 17070); pass the same one to stop/status. The
# pid and log files are $REPO/.bin/versitygw-$VERSITYGW_PORT.{pid,log}, and its
# buckets live in $REPO/.bin/versitygw-$VERSITYGW_PORT/ (plain files: anyone
# with the filesystem bypasses Object Lock, so this is for tests only).
# The root keys are VERSITYGW_ACCESS_KEY/VERSITYGW_SECRET_KEY (default
# wardtest/wardtestsecret): test credentials, passed in the environment, never
# on the command line. --versioning-dir is always given, since Object Lock
# needs versioning; create buckets with x-amz-bucket-object-lock-enabled.
set -euo pipefail

VERSITYGW_VERSION=v1.8.0
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR=$REPO/.bin
BIN=$BIN_DIR/versitygw
PORT=${VERSITYGW_PORT:-17070}
ACCESS_KEY=${VERSITYGW_ACCESS_KEY:-wardtest}
SECRET_KEY=${VERSITYGW_SECRET_KEY:-wardtestsecret}
STATE_DIR=$BIN_DIR/versitygw-$PORT
PID_FILE=$BIN_DIR/versitygw-$PORT.pid
LOG_FILE=$BIN_DIR/versitygw-$PORT.log
READY_URL=http://127.0.0.1:$PORT/health

die() { echo "versitygw.sh: $*" >&2; exit 1; }

install() {
	command -v go >/dev/null || die "go is not on PATH"
	# Read the module version recorded in the binary: a stale or foreign
	# build is replaced.
	if [[ -x $BIN ]] && go version -m "$BIN" 2>/dev/null |
		grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/versity/versitygw[[:space:]]+${VERSITYGW_VERSION}[[:space:]]"; then
		return 0
	fi
	mkdir -p "$BIN_DIR"
	echo "versitygw.sh: installing versitygw ${VERSITYGW_VERSION} into $BIN_DIR (about 3 minutes the first time)" >&2
	# "go install pkg@version" ignores Ward's go.mod; running it from .bin
	# makes that obvious and leaves go.mod/go.sum untouched.
	(cd "$BIN_DIR" && GOBIN=$BIN_DIR go install "github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}")
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
		echo "versitygw.sh: already running (pid $pid), S3 http://127.0.0.1:$PORT" >&2
		return 0
	fi
	if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/" 2>/dev/null; then
		die "something else already answers on 127.0.0.1:$PORT; set VERSITYGW_PORT"
	fi
	mkdir -p "$STATE_DIR/data" "$STATE_DIR/versions" "$STATE_DIR/iam"
	ROOT_ACCESS_KEY=$ACCESS_KEY ROOT_SECRET_KEY=$SECRET_KEY nohup "$BIN" \
		--port "127.0.0.1:$PORT" \
		--iam-dir "$STATE_DIR/iam" \
		--health /health \
		--quiet \
		posix --versioning-dir "$STATE_DIR/versions" "$STATE_DIR/data" \
		>"$LOG_FILE" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$PID_FILE"
	wait_ready "$pid"
	echo "versitygw.sh: running (pid $pid), S3 http://127.0.0.1:$PORT, access key $ACCESS_KEY" >&2
}

# wait_ready PID waits up to 20 s for /health to answer 200.
wait_ready() {
	local pid=$1
	local deadline=$((SECONDS + 20))
	until ready; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$PID_FILE"
			die "versitygw exited during start-up; see $LOG_FILE:
$(tail -n 20 "$LOG_FILE")"
		fi
		if ((SECONDS >= deadline)); then
			kill "$pid" 2>/dev/null || true
			rm -f "$PID_FILE"
			die "versitygw did not answer 200 on $READY_URL within 20 s; see $LOG_FILE"
		fi
		sleep 0.2
	done
}

stop() {
	local pid
	if ! pid=$(running_pid); then
		rm -f "$PID_FILE"
		echo "versitygw.sh: not running" >&2
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
	echo "versitygw.sh: stopped (pid $pid)" >&2
}

status() {
	local pid
	if pid=$(running_pid); then
		echo "versitygw.sh: running (pid $pid), S3 http://127.0.0.1:$PORT"
	else
		echo "versitygw.sh: not running"
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
