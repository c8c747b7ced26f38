#!/usr/bin/env bash
# Throw-away single-node Apache Cassandra 5.0 for the integration tests,
# started straight from the Maven Central jars (no tarball, no Docker).
#
#   cassandra-test.sh fetch         download the jars into tools/cassandra/lib (mvn)
#   cassandra-test.sh start         start a fresh node in the background
#   cassandra-test.sh wait [secs]   wait until CQL is served (default 180 s)
#   cassandra-test.sh stop          stop the node (SIGTERM, SIGKILL after 30 s)
#   cassandra-test.sh status        exit 0 if the node runs and its CQL port answers
#
# Environment:
#   CASSANDRA_RUN   run dir (conf, data, logs, pid), default /tmp/argus-cassandra
#   CASSANDRA_PORT  CQL port, default 9042
#   CASSANDRA_LIB   jar dir, default tools/cassandra/lib
#   CASSANDRA_JAVA  java binary; must be Java 11 or 17 (default: OpenJDK 17)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB=${CASSANDRA_LIB:-$HERE/lib}
RUN=${CASSANDRA_RUN:-/tmp/argus-cassandra}
PORT=${CASSANDRA_PORT:-9042}
HOST=127.0.0.1
PIDFILE=$RUN/cassandra.pid
MARKER=.argus-cassandra-run
MAIN_CLASS=org.apache.cassandra.service.CassandraDaemon

say() { printf 'cassandra-test: %s\n' "$*"; }
die() { printf 'cassandra-test: error: %s\n' "$*" >&2; exit 1; }

pom_version() {
    sed -n 's:.*<cassandra.version>\(.*\)</cassandra.version>.*:\1:p' "$HERE/pom.xml" | head -n1
}

# Cassandra 5.0 runs on Java 11 or 17 only. Newer JDKs (e.g. a Temurin 25 that
# may also sit in /usr/lib/jvm) fail in System.setSecurityManager, so never
# trust PATH or JAVA_HOME here.
find_java() {
    local cand
    for cand in "${CASSANDRA_JAVA:-}" /usr/lib/jvm/java-17-openjdk-amd64/bin/java \
                /usr/lib/jvm/java-17-openjdk*/bin/java /usr/lib/jvm/*-17-*/bin/java; do
        if [ -z "$cand" ] || [ ! -x "$cand" ]; then continue; fi
        local spec
        spec=$("$cand" -XshowSettings:properties -version 2>&1 |
               sed -n 's/^ *java\.specification\.version = //p')
        case "$spec" in
            11|17) printf '%s\n' "$cand"; return 0 ;;
            *) [ -n "${CASSANDRA_JAVA:-}" ] && [ "$cand" = "$CASSANDRA_JAVA" ] &&
                   die "CASSANDRA_JAVA=$cand is Java '$spec'; Cassandra 5.0 needs 11 or 17" ;;
        esac
    done
    die "no Java 17 (or 11) found; install openjdk-17-jdk-headless"
}

port_open() {  # port_open PORT: true if something accepts TCP on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# PID of our node if it is alive, else nothing (and status 1). Checks the
# command line, so a recycled PID is never mistaken for the node.
node_pid() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$MAIN_CLASS" || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "-Dcassandra.logdir=$RUN/logs" || return 1
    printf '%s\n' "$pid"
}

fetch() {
    local version stamp
    version=$(pom_version)
    [ -n "$version" ] || die "no <cassandra.version> in $HERE/pom.xml"
    stamp=$LIB/.fetched-$version
    if [ -f "$stamp" ] && [ -f "$LIB/cassandra-all-$version.jar" ]; then
        say "jars for Cassandra $version already in $LIB"
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
    local java java_home tmp
    java=$(find_java)
    java_home=$(dirname "$(dirname "$(readlink -f "$java")")")
    # copy into a scratch dir and swap it in, so a failed or older download
    # never leaves a mixed classpath behind
    tmp="$LIB.tmp.$$"
    rm -rf "$tmp"
    say "downloading cassandra-all $version and its runtime dependencies (mvn)"
    # (sed strips the colour codes Maven 3.8 prints even in batch mode)
    if ! JAVA_HOME=$java_home mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'; then
        rm -rf "$tmp"
        die "mvn could not fetch cassandra-all $version"
    fi
    if [ ! -f "$tmp/cassandra-all-$version.jar" ]; then
        rm -rf "$tmp"
        die "mvn ran but cassandra-all-$version.jar is missing"
    fi
    touch "$tmp/.fetched-$version"
    rm -rf "$LIB"
    mv "$tmp" "$LIB"
    say "$(find "$LIB" -name '*.jar' | wc -l) jars in $LIB"
}

# Empty the run dir, refusing to delete anything that is not one of ours.
reset_run_dir() {
    case "$RUN" in
        /*) ;;
        *) die "CASSANDRA_RUN must be an absolute path (got '$RUN')" ;;
    esac
    [ "$RUN" != / ] || die "CASSANDRA_RUN must not be /"
    if [ -d "$RUN" ] && [ ! -e "$RUN/$MARKER" ] && [ -n "$(ls -A "$RUN")" ]; then
        die "$RUN exists, is not empty and was not made by this script; remove it or set CASSANDRA_RUN"
    fi
    rm -rf "$RUN"
    mkdir -p "$RUN/conf" "$RUN/logs" "$RUN/tmp" "$RUN/triggers" "$RUN/data"
    touch "$RUN/$MARKER"
}

start() {
    local pid
    if pid=$(node_pid); then
        if port_open "$PORT"; then
            say "already running (pid $pid) and serving CQL on $HOST:$PORT"
        else
            say "already running (pid $pid), still starting up"
        fi
        return 0
    fi
    if port_open "$PORT"; then
        die "port $PORT is taken by another process (not a node from $RUN); set CASSANDRA_PORT"
    fi
    if port_open 7000; then
        die "storage port 7000 is taken by another process"
    fi

    local version java jamm
    version=$(pom_version)
    if [ ! -f "$LIB/cassandra-all-$version.jar" ] || [ ! -f "$LIB/.fetched-$version" ]; then
        fetch
    fi
    java=$(find_java)

    reset_run_dir
    sed -e "s#RUN_DIR#$RUN#g" -e "s#^native_transport_port:.*#native_transport_port: $PORT#" \
        "$HERE/conf/cassandra.yaml" > "$RUN/conf/cassandra.yaml"
    cp "$HERE/conf/logback.xml" "$RUN/conf/logback.xml"

    local -a agent=()
    jamm=$(find "$LIB" -maxdepth 1 -name 'jamm-*.jar' | head -n1)
    [ -z "$jamm" ] || agent=("-javaagent:$jamm")

    # setsid: the node must outlive the shell (and process group) that started it.
    # Not a process group leader here, so setsid execs in place and $! is java's PID.
    MALLOC_ARENA_MAX=4 setsid "$java" @"$HERE/conf/jvm17.args" "${agent[@]}" \
        -XX:HeapDumpPath="$RUN" -XX:ErrorFile="$RUN/hs_err_%p.log" \
        -Djava.io.tmpdir="$RUN/tmp" -Djna.tmpdir="$RUN/tmp" \
        -Dcassandra.config="file://$RUN/conf/cassandra.yaml" \
        -Dcassandra.storagedir="$RUN/data" \
        -Dcassandra.logdir="$RUN/logs" \
        -Dlogback.configurationFile="$RUN/conf/logback.xml" \
        -Dcassandra.triggers_dir="$RUN/triggers" \
        -cp "$RUN/conf:$LIB/*" "$MAIN_CLASS" \
        > "$RUN/logs/stdout.log" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    say "started Cassandra $version (pid $!, java $java), CQL port $PORT, run dir $RUN"
}

dump_logs() {
    local f
    for f in "$RUN/logs/stdout.log" "$RUN/logs/system.log"; do
        [ -s "$f" ] || continue
        printf -- '--- last lines of %s ---\n' "$f" >&2
        tail -n 40 "$f" >&2
    done
}

wait_ready() {
    local timeout=${1:-180}
    [[ "$timeout" =~ ^[0-9]+$ ]] || die "wait: timeout must be whole seconds (got '$timeout')"
    local deadline=$((SECONDS + timeout)) started=$SECONDS
    [ -f "$PIDFILE" ] || die "not started (no $PIDFILE)"
    # 1. process alive and "Startup complete" logged (after the CQL server started)
    until grep -q "Startup complete" "$RUN/logs/system.log" 2>/dev/null; do
        if ! node_pid >/dev/null; then
            printf 'cassandra-test: error: the node died while starting\n' >&2
            dump_logs
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            printf 'cassandra-test: error: not ready after %ss\n' "$timeout" >&2
            dump_logs
            return 1
        fi
        sleep 0.5
    done
    # 2. the CQL port really accepts connections
    until port_open "$PORT"; do
        node_pid >/dev/null || { printf 'cassandra-test: error: the node died\n' >&2; dump_logs; return 1; }
        if [ "$SECONDS" -ge "$deadline" ]; then
            printf 'cassandra-test: error: "Startup complete" logged but port %s closed\n' "$PORT" >&2
            return 1
        fi
        sleep 0.5
    done
    say "ready on $HOST:$PORT after $((SECONDS - started))s of waiting"
}

stop() {
    local pid
    if ! pid=$(node_pid); then
        rm -f "$PIDFILE"
        say "not running"
        return 0
    fi
    # SIGTERM runs Cassandra's drain hook; the data is throw-away, so SIGKILL
    # after 30 s is fine
    kill -TERM "$pid" 2>/dev/null || true
    local _
    for _ in $(seq 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "pid $pid ignored SIGTERM for 30s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$PIDFILE"
    say "stopped (pid $pid)"
}

status() {
    local pid
    if ! pid=$(node_pid); then
        say "not running"
        return 1
    fi
    if port_open "$PORT"; then
        say "running (pid $pid), CQL on $HOST:$PORT"
        return 0
    fi
    say "running (pid $pid), CQL port $PORT not open yet"
    return 1
}

case "${1:-}" in
    fetch) fetch ;;
    start) start ;;
    wait) wait_ready "${2:-180}" ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 fetch | start | wait [secs] | stop | status" >&2; exit 2 ;;
esac
