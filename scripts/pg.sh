#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests.
#
#   scripts/pg.sh start DIR   makes a cluster in DIR/data, starts it on a spare
#                             port of 127.0.0.1 and prints its base URI,
#                             postgresql://opencase@127.0.0.1:PORT, on stdout
#   scripts/pg.sh stop DIR    stops that cluster and removes DIR
#
# The superuser role is `opencase`, with trust authentication, so the URI
# needs no password; nothing listens beyond 127.0.0.1, and the unix socket is
# in DIR rather than in a system directory. fsync stays on, so that the tests
# see the durability a real installation has. PostgreSQL refuses to run as
# root: when the script is run as root, the cluster belongs to the `postgres`
# system user that Debian's package creates. Everything but the URI goes to
# stderr.
set -euo pipefail

PG_VERSION=15
PG_BIN=/usr/lib/postgresql/$PG_VERSION/bin
READY_TIMEOUT_S=60
# Enough for every server of a parallel test run with its pool of connections.
MAX_CONNECTIONS=300

die() {
    printf 'pg.sh: %s\n' "$*" >&2
    exit 1
}

usage() {
    printf 'usage: %s start DIR | stop DIR\n' "$0" >&2
    exit 2
}

# Runs a command as the cluster's owner: `postgres` when we are root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

install_postgresql() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    printf 'pg.sh: installing postgresql\n' >&2
    # apt-get's progress would otherwise land in the caller's captured URI.
    {
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y postgresql
    } >&2 || die "could not install the postgresql package"
    [ -x "$PG_BIN/initdb" ] || die "postgresql is installed but $PG_BIN/initdb is missing (another major version?)"
}

# A TCP port of 127.0.0.1 that nothing listens on now. Another process may
# take it before the server binds, so start() retries with a new one.
spare_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

show_log() {
    if [ -f "$1/log" ]; then
        printf 'pg.sh: --- end of %s/log ---\n' "$1" >&2
        tail -n 30 "$1/log" >&2
    fi
}

start() {
    local dir=$1
    [ -x "$PG_BIN/initdb" ] || install_postgresql
    command -v python3 >/dev/null 2>&1 || die "python3 is needed to find a spare port"

    if [ -e "$dir" ]; then
        [ -d "$dir" ] || die "$dir exists and is not a directory"
        [ -z "$(ls -A "$dir")" ] || die "$dir is not empty; give a new or empty directory"
    else
        mkdir -p "$dir"
    fi
    dir=$(cd "$dir" && pwd -P)
    # The socket's path, DIR/.s.PGSQL.PORT, must fit in sun_path (108 bytes).
    [ ${#dir} -le 90 ] || die "$dir is too long a path for a unix socket"

    if [ "$(id -u)" -eq 0 ]; then
        getent passwd postgres >/dev/null || die "no postgres system user (is the postgresql package installed?)"
        chown postgres: "$dir"
        chmod 700 "$dir"
        as_owner test -w "$dir" ||
            die "the postgres user cannot write to $dir (a parent directory closed to it?)"
    fi

    as_owner "$PG_BIN/initdb" -D "$dir/data" -U opencase --auth=trust \
        --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        die "initdb failed in $dir/data"
    }

    local port="" attempt
    for attempt in 1 2 3; do
        port=$(spare_port)
        # Settings live in the data directory, so that stop needs none of them.
        as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# scripts/pg.sh, attempt $attempt
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = $MAX_CONNECTIONS
fsync = on
EOF
        if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t "$READY_TIMEOUT_S" start >&2; then
            break
        fi
        # A port taken meanwhile is worth another try; anything else is not.
        if ! grep -q 'could not bind' "$dir/log" 2>/dev/null || [ "$attempt" -eq 3 ]; then
            show_log "$dir"
            die "the server in $dir/data did not start"
        fi
        printf 'pg.sh: port %s was taken, trying another\n' "$port" >&2
    done

    local deadline=$((SECONDS + READY_TIMEOUT_S))
    until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U opencase -d postgres; do
        if [ $SECONDS -ge $deadline ]; then
            show_log "$dir"
            die "the server on 127.0.0.1:$port was not ready within ${READY_TIMEOUT_S}s"
        fi
        sleep 0.2
    done
    printf 'postgresql://opencase@127.0.0.1:%s\n' "$port"
}

stop() {
    local dir=$1
    [ -e "$dir" ] || return 0
    # A start that failed early leaves the directory empty.
    if [ -d "$dir" ] && [ -z "$(ls -A "$dir")" ]; then
        rmdir "$dir"
        return 0
    fi
    # A guard against removing a directory this script did not make.
    [ -f "$dir/initdb.log" ] || die "$dir does not look like a cluster made by pg.sh start; not removing it"
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t "$READY_TIMEOUT_S" stop >&2 || {
            show_log "$dir"
            die "could not stop the server in $dir/data"
        }
    fi
    rm -rf "$dir"
}

[ $# -eq 2 ] || usage
[ -n "$2" ] || usage
case $1 in
start) start "$2" ;;
stop) stop "$2" ;;
*) usage ;;
esac
