#!/usr/bin/env bash
# Start / stop the services the test suite needs: Redis and a single-node
# Cassandra 5.0 (CQL stand-in for ScyllaDB); also installs Debian's Chromium for the browser tests.
#
#   tools/test-services.sh up     install what is missing, start both, wait until ready
#   tools/test-services.sh down   stop both
#
# If SCYLLA_HOSTS is set, an external ScyllaDB/Cassandra is used and no local
# Cassandra is fetched or started. Ports: CASSANDRA_PORT (9042), REDIS_PORT (6390).
# Timeouts: CASSANDRA_WAIT (180 s), REDIS_WAIT (30 s).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CASSANDRA=$HERE/cassandra/cassandra-test.sh
REDIS=$HERE/redis/redis-test.sh
T0=$SECONDS

step() { printf '[test-services +%3ds] %s\n' "$((SECONDS - T0))" "$*"; }

use_local_cassandra() { [ -z "${SCYLLA_HOSTS:-}" ]; }

up() {
    # Cassandra boots slowest, so start it first and install/start Redis meanwhile
    if use_local_cassandra; then
        step "cassandra: fetching jars if needed"
        "$CASSANDRA" fetch
        step "cassandra: starting"
        "$CASSANDRA" start
    else
        step "SCYLLA_HOSTS=$SCYLLA_HOSTS: using it, no local Cassandra"
    fi
    step "redis: installing if needed"
    "$REDIS" install
    step "redis: starting"
    "$REDIS" start
    "$REDIS" wait "${REDIS_WAIT:-30}"
    step "redis: ready on 127.0.0.1:${REDIS_PORT:-6390}"
    step "chromium: installing if needed (browser tests)"
    "$HERE/chromium/chromium-test.sh" install
    if use_local_cassandra; then
        step "cassandra: waiting for CQL"
        "$CASSANDRA" wait "${CASSANDRA_WAIT:-180}"
        step "cassandra: ready on 127.0.0.1:${CASSANDRA_PORT:-9042}"
    fi
    step "up"
}

down() {
    local rc=0
    "$REDIS" stop || rc=1
    "$CASSANDRA" stop || rc=1
    step "down"
    return "$rc"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up | down" >&2; exit 2 ;;
esac
