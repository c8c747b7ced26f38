#!/usr/bin/env bash
# Throw-away Redis server for the test suite (Debian's redis-server package).
#
#   redis-test.sh install       apt-get install redis-server (if missing)
#   redis-test.sh start         start a daemonized, non-persistent server
#   redis-test.sh wait [secs]   wait until it answers PING (default 30 s)
#   redis-test.sh stop          shut it down
#   redis-test.sh status        exit 0 if it answers PING
#
# Environment:
#   REDIS_PORT  port on 127.0.0.1, default 6390 (not 6379, to stay clear of
#               a system redis that the Debian package may start)
#   REDIS_RUN   run dir (pidfile, log, working dir), default /tmp/argus-redis/PORT
set -euo pipefail

PORT=${REDIS_PORT:-6390}
HOST=127.0.0.1
RUN=${REDIS_RUN:-/tmp/argus-redis/$PORT}
PIDFILE=$RUN/redis.pid

say() { printf 'redis-test: %s\n' "$*"; }
die() { printf 'redis-test: error: %s\n' "$*" >&2; exit 1; }

pong() {
    [ "$(redis-cli -h "$HOST" -p "$PORT" ping 2>/dev/null)" = PONG ]
}

# PID from our pidfile if that process is a live redis-server, else status 1
server_pid() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q 'redis-server' || return 1
    printf '%s\n' "$pid"
}

install() {
    if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
        say "redis-server already installed ($(redis-server --version | cut -d' ' -f3))"
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "installing redis-server needs root (apt-get)"
    say "installing redis-server (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq redis-server >/dev/null
    say "installed $(redis-server --version | cut -d' ' -f3)"
}

start() {
    command -v redis-server >/dev/null || die "redis-server not installed (run: $0 install)"
    local pid
    if pid=$(server_pid) && pong; then
        say "already running (pid $pid) on $HOST:$PORT"
        return 0
    fi
    if pong; then
        die "port $PORT already serves a redis that is not ours ($RUN); set REDIS_PORT"
    fi
    case "$RUN" in /?*) ;; *) die "REDIS_RUN must be an absolute path (got '$RUN')" ;; esac
    mkdir -p "$RUN"
    rm -f "$PIDFILE" "$RUN/redis.log"
    redis-server --bind "$HOST" --port "$PORT" --protected-mode yes \
        --daemonize yes --pidfile "$PIDFILE" --dir "$RUN" \
        --logfile "$RUN/redis.log" --loglevel notice \
        --save "" --appendonly no
    say "started on $HOST:$PORT (run dir $RUN)"
}

wait_ready() {
    local timeout=${1:-30}
    [[ "$timeout" =~ ^[0-9]+$ ]] || die "wait: timeout must be whole seconds (got '$timeout')"
    local deadline=$((SECONDS + timeout))
    until pong; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            printf 'redis-test: error: no PONG on %s:%s after %ss\n' "$HOST" "$PORT" "$timeout" >&2
            [ -s "$RUN/redis.log" ] && tail -n 20 "$RUN/redis.log" >&2
            return 1
        fi
        sleep 0.2
    done
    say "ready on $HOST:$PORT"
}

stop() {
    local pid
    if ! pid=$(server_pid); then
        rm -f "$PIDFILE"
        say "not running"
        return 0
    fi
    redis-cli -h "$HOST" -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    local _
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        sleep 1
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$PIDFILE"
    say "stopped (pid $pid)"
}

status() {
    local pid
    if pid=$(server_pid) && pong; then
        say "running (pid $pid) on $HOST:$PORT"
        return 0
    fi
    say "not running on $HOST:$PORT"
    return 1
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    wait) wait_ready "${2:-30}" ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 install | start | wait [secs] | stop | status" >&2; exit 2 ;;
esac
