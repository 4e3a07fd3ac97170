#!/usr/bin/env bash
# run.sh - measures opencase against the machine's own limits, on each backend.
#
# For every backend of BENCH_BACKENDS (SQLite, PostgreSQL), on the same demo
# data loaded afresh:
# a) Public tracking look-ups (GET /api/v1/track/{ref} with X-Tracking-Secret)
#    against nginx serving a static file of the same size: how close the
#    dynamic, authenticated answer comes to the cheapest possible HTTP answer.
#    On PostgreSQL, beside them, the store's own rate for the core of a
#    look-up: a SELECT of one case by reference, with pgbench.
# b) Durable stage changes through the API against the store's own limit for
#    durable writes: for SQLite the same writes made directly
#    (bench/sqlite_baseline.c), for PostgreSQL one-row INSERTs of an event row
#    with pgbench, synchronous_commit on: what HTTP, JSON, authentication and
#    the workflow cost on top of the commit. On PostgreSQL the server makes
#    them with one thread per client, as pgbench has one connection per
#    client (see bench_postgresql).
# c) The server's peak resident memory.
#
# Everything runs on 127.0.0.1 in a temporary directory that is removed on
# exit, with both databases in it, so on the same disk; every process started
# is stopped on exit, on failure and on ^C too. The summary is printed and
# written to bench/out/latest.txt; the raw outputs are in bench/out/BACKEND/.
#
# Environment: BENCH_BACKENDS ("sqlite postgresql"), BENCH_CASES (1000000),
# BENCH_SECONDS (20), BENCH_WARMUP (3), OPENCASE_THREADS (4),
# BENCH_BASELINE_ROWS (0 = as many as time allows; SQLite baseline only).
set -euo pipefail

BACKENDS=${BENCH_BACKENDS:-sqlite postgresql}
CASES=${BENCH_CASES:-1000000}
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
WARMUP=${BENCH_WARMUP:-3}
THREADS=${OPENCASE_THREADS:-4}
BASELINE_ROWS=${BENCH_BASELINE_ROWS:-0}
WRK_THREADS=2
TRACK_CONNECTIONS=64
EVENT_CONNECTIONS=16
# pgbench logs this fraction of its look-ups for the percentiles; every write.
SELECT_SAMPLING=0.1
PG_BIN=/usr/lib/postgresql/15/bin
PG_DBNAME=opencase_bench

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
OUT="$BENCH/out"
BIN="$ROOT/build-bench/opencase"

WORK=""
PG_DIR=""
SERVER_PID=""
NGINX_PID=""
CHILD_PID=""

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# Stops a process and, when it leads one, its process group (a step run by
# run_child, with the helpers it started).
stop_pid() {
    local pid=$1
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || {
            wait "$pid" 2>/dev/null || true
            return 0
        }
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

stop_postgresql() {
    [[ -n "$PG_DIR" ]] || return 0
    if [[ -e "$PG_DIR" ]]; then
        "$ROOT/scripts/pg.sh" stop "$PG_DIR" >/dev/null || log "could not stop the PostgreSQL cluster in $PG_DIR"
    fi
    PG_DIR=""
}

cleanup() {
    # A second ^C must not cut the cleanup short.
    trap '' INT TERM
    stop_pid "$CHILD_PID"
    stop_pid "$SERVER_PID"
    stop_pid "$NGINX_PID"
    CHILD_PID="" SERVER_PID="" NGINX_PID=""
    stop_postgresql
    [[ -n "$WORK" && -d "$WORK" ]] && rm -rf "$WORK"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_package() {
    local cmd=$1 package=$2
    command -v "$cmd" >/dev/null 2>&1 && return 0
    log "installing $package"
    local sudo=""
    [[ $EUID -ne 0 ]] && sudo=sudo
    $sudo apt-get install -y "$package" >/dev/null 2>&1 ||
        { $sudo apt-get update >/dev/null && $sudo apt-get install -y "$package" >/dev/null; } ||
        die "cannot install $package"
}

# A port nothing listens on: connecting to it fails.
spare_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no spare port found"
}

# Waits until url answers 2xx; fails when the process behind it exits or 30 s pass.
wait_http() {
    local url=$1 pid=$2
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# Runs a long step as a child in its own process group and waits for it, so
# that a signal reaches the trap at once rather than when the step ends, and
# the trap can stop the step with everything it started.
run_child() {
    local rc=0
    setsid -w "$@" &
    CHILD_PID=$!
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=""
    return "$rc"
}

# The value of key=value in a RESULT line.
field() { sed -En "s/(^|.*[[:space:]])$2=([^[:space:]]*).*/\2/p" <<<"$1"; }

result_line() {
    grep '^RESULT ' "$1" | tail -n 1 || die "no result in $1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
row() { printf '%-48s %12s %12s %7s\n' "$@"; }

run_wrk() {
    local out=$1 connections=$2 script=$3 url=$4
    shift 4
    run_child wrk -t"$WRK_THREADS" -c"$connections" -d"${SECONDS_PER_RUN}s" --latency \
        -s "$script" "$url" -- "$@" >"$out" 2>&1 || {
        cat "$out" >&2
        die "wrk failed"
    }
}

warm_up() {
    local script=$1 url=$2
    shift 2
    [[ "$WARMUP" -gt 0 ]] || return 0
    run_child wrk -t"$WRK_THREADS" -c"$TRACK_CONNECTIONS" -d"${WARMUP}s" -s "$script" "$url" \
        -- "$@" >/dev/null 2>&1 || die "wrk warm-up failed"
}

# ---- one backend's run: the steps both share ----

# Loads the demo data into db (a file or a URI) and makes an API key.
# Sets load_seconds, n_investigating and API_KEY.
load_data() {
    local db=$1 dir=$2
    log "loading $CASES demo cases"
    "$BIN" --db "$db" init >/dev/null || die "opencase init failed"
    local start
    start=$(date +%s.%N)
    run_child "$BIN" --db "$db" demo --cases "$CASES" --events 5 --credentials "$dir/credentials.txt" \
        >"$dir/demo.log" || die "the demo data could not be loaded"
    load_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    [[ -s "$dir/credentials.txt" ]] || die "the demo wrote no credentials"

    awk '$3 == "investigating" && $4 == "burglary" { print $1 }' "$dir/credentials.txt" \
        >"$dir/investigating.txt"
    n_investigating=$(wc -l <"$dir/investigating.txt")
    [[ "$n_investigating" -gt 0 ]] || die "no burglary case at stage investigating"

    API_KEY=$("$BIN" --db "$db" key create --org wessex-police --label bench 2>>"$dir/demo.log" |
        grep -oE '[A-Za-z0-9_-]{20,}' | tail -n 1) || true
    [[ -n "$API_KEY" ]] || die "cannot create an API key"
}

# Starts the server with THREADS worker threads, or as many as the third
# argument says.
start_server() {
    local db=$1 dir=$2 threads=${3:-$THREADS}
    PORT=$(spare_port)
    log "starting opencase on 127.0.0.1:$PORT with $threads threads"
    OPENCASE_THREADS=$threads "$BIN" --db "$db" --listen "127.0.0.1:$PORT" serve \
        >>"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$PORT/healthz" "$SERVER_PID" || {
        cat "$dir/server.log" >&2
        die "opencase did not start"
    }
    BASE="http://127.0.0.1:$PORT"
}

start_nginx() {
    local dir=$1
    NGINX_PORT=$(spare_port)
    while [[ "$NGINX_PORT" == "$PORT" ]]; do NGINX_PORT=$(spare_port); done
    mkdir -p "$dir/nginx"
    {
        # Workers run as whoever runs the benchmark; the directive only counts for root.
        [[ $EUID -eq 0 ]] && echo "user $(id -un) $(id -gn);"
        cat <<EOF
worker_processes $THREADS;
daemon off;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile off;
    keepalive_requests 100000000;
    default_type application/json;
    client_body_temp_path $dir/nginx/client_body;
EOF
        # Only the temp paths of modules this nginx was built with are accepted.
        for module in proxy fastcgi uwsgi scgi; do
            if ! "$NGINX" -V 2>&1 | grep -q -- "--without-http_${module}_module"; then
                echo "    ${module}_temp_path $dir/nginx/$module;"
            fi
        done
        cat <<EOF
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $dir/www;
    }
}
EOF
    } >"$dir/nginx/nginx.conf"
    log "starting nginx on 127.0.0.1:$NGINX_PORT with $THREADS workers"
    "$NGINX" -p "$dir/nginx" -e "$dir/nginx/error.log" -c "$dir/nginx/nginx.conf" \
        >"$dir/nginx/stdout.log" 2>&1 &
    NGINX_PID=$!
    wait_http "http://127.0.0.1:$NGINX_PORT/track.json" "$NGINX_PID" || {
        cat "$dir/nginx/error.log" >&2
        die "nginx did not start"
    }
}

# a) against opencase and nginx; sets response_bytes.
measure_lookups() {
    local dir=$1 out=$2 creds=$1/credentials.txt
    local sample_ref sample_secret
    read -r sample_ref sample_secret _ <"$creds"
    mkdir -p "$dir/www"
    curl -fsS -H "X-Tracking-Secret: $sample_secret" -o "$dir/www/track.json" \
        "$BASE/api/v1/track/$sample_ref" || die "tracking look-up of $sample_ref failed"
    response_bytes=$(wc -c <"$dir/www/track.json")
    start_nginx "$dir"

    log "a) tracking look-ups: opencase, ${SECONDS_PER_RUN}s"
    warm_up "$BENCH/track.lua" "$BASE" "$creds" "$WRK_THREADS"
    run_wrk "$out/wrk-track.txt" "$TRACK_CONNECTIONS" "$BENCH/track.lua" "$BASE" "$creds" "$WRK_THREADS"
    log "a) tracking look-ups: nginx static file, ${SECONDS_PER_RUN}s"
    warm_up "$BENCH/track.lua" "http://127.0.0.1:$NGINX_PORT" "$creds" "$WRK_THREADS" /track.json
    run_wrk "$out/wrk-nginx.txt" "$TRACK_CONNECTIONS" "$BENCH/track.lua" \
        "http://127.0.0.1:$NGINX_PORT" "$creds" "$WRK_THREADS" /track.json
    stop_pid "$NGINX_PID"
    NGINX_PID=""
}

# b) through the API, then c) read before the server stops; sets peak_kib, anon_kib.
# With a database and a number of threads, the server is first restarted with
# that many threads; peak_kib is then the higher peak of the two servers.
measure_events() {
    local dir=$1 out=$2 db=${3:-} threads=${4:-}
    local first_peak=0
    if [[ -n "$db" ]]; then
        first_peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
        stop_pid "$SERVER_PID"
        SERVER_PID=""
        start_server "$db" "$dir" "$threads"
    fi
    log "b) stage changes through the API, ${SECONDS_PER_RUN}s ($n_investigating cases available)"
    run_wrk "$out/wrk-events.txt" "$EVENT_CONNECTIONS" "$BENCH/events.lua" "$BASE" \
        "$dir/investigating.txt" "$WRK_THREADS" "$API_KEY"
    peak_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
    [[ "$first_peak" -gt "$peak_kib" ]] && peak_kib=$first_peak
    anon_kib=$(awk '/^RssAnon:/ { print $2 }' "/proc/$SERVER_PID/status")
    stop_pid "$SERVER_PID"
    SERVER_PID=""
}

# The rows of a) and b) from the API's side, with the baseline's values for b).
api_rows() {
    local track nginx events
    track=$(result_line "$1/wrk-track.txt")
    nginx=$(result_line "$1/wrk-nginx.txt")
    events=$(result_line "$1/wrk-events.txt")
    local track_rps nginx_rps
    track_rps=$(field "$track" rps)
    nginx_rps=$(field "$nginx" rps)
    row "" "opencase" "baseline" "ratio"
    row "a) tracking look-ups/s, $TRACK_CONNECTIONS connections" "$track_rps" "$nginx_rps" \
        "$(ratio "$track_rps" "$nginx_rps")"
    row "   latency p50, ms" "$(field "$track" p50_ms)" "$(field "$nginx" p50_ms)" ""
    row "   latency p99, ms" "$(field "$track" p99_ms)" "$(field "$nginx" p99_ms)" ""
    row "   non-2xx responses" "$(field "$track" non2xx)" "$(field "$nginx" non2xx)" ""
}

events_rows() {
    local events events_ps
    events=$(result_line "$1/wrk-events.txt")
    events_ps=$(field "$events" created_ps)
    row "b) durable stage changes/s, $EVENT_CONNECTIONS connections" "$events_ps" "$2" \
        "$(ratio "$events_ps" "$2")"
    row "   events written (201 / rows)" "$(field "$events" created)" "$3" ""
    row "   other responses (status:count)" "$(field "$events" statuses)" "" ""
    row "   latency p50, ms" "$(field "$events" p50_ms)" "$4" ""
    row "   latency p99, ms" "$(field "$events" p99_ms)" "$5" ""
    [[ "$(field "$events" exhausted)" == "1" ]] && exhausted=1
    return 0
}

exhausted_note() {
    [[ "$exhausted" == 1 ]] || return 0
    echo "note: the cases at stage investigating ran out; raise BENCH_CASES for a longer run."
}

memory_rows() {
    row "c) server peak resident memory, MiB" "$(mib "$peak_kib")" "" ""
    row "   private memory (RssAnon) at the end, MiB" "$(mib "$anon_kib")" "" ""
}

# ---- SQLite ----

bench_sqlite() {
    local dir=$WORK/sqlite out=$OUT/sqlite
    mkdir -m 700 "$dir"
    mkdir -p "$out"
    local db=$dir/bench.db
    cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$dir/sqlite_baseline" "$BENCH/sqlite_baseline.c" \
        -lsqlite3 || die "cannot build the SQLite baseline"

    log "== SQLite: $db"
    load_data "$db" "$dir"
    local db_mib
    db_mib=$(du -m "$db" | cut -f1)
    # The baseline writes to its own copy, taken before the server changes anything.
    cp "$db" "$dir/baseline.db"
    if [[ -f "$db-wal" ]]; then cp "$db-wal" "$dir/baseline.db-wal"; fi

    start_server "$db" "$dir"
    measure_lookups "$dir" "$out"
    # Both write runs start with no dirty pages pending, so neither pays for the
    # other's (or the load's) writeback in its fsyncs.
    sync
    measure_events "$dir" "$out"

    log "b) the same writes straight into SQLite, ${SECONDS_PER_RUN}s"
    sync
    run_child "$dir/sqlite_baseline" "$dir/baseline.db" "$SECONDS_PER_RUN" "$BASELINE_ROWS" \
        >"$out/sqlite-baseline.txt" || die "the SQLite baseline failed"
    local baseline
    baseline=$(cat "$out/sqlite-baseline.txt")
    [[ "$baseline" == *exhausted=1* ]] && exhausted=1

    {
        echo "== SQLite $(sqlite3_version) =="
        echo "data: $CASES cases, 5 events each, loaded in ${load_seconds}s; database ${db_mib} MiB"
        echo
        api_rows "$out"
        events_rows "$out" "$(field "$baseline" rows_per_s)" "$(field "$baseline" rows)" "" ""
        memory_rows
        echo
        echo "a) baseline: nginx serving a static file of the same size as a tracking answer"
        echo "   (${response_bytes} bytes), with sendfile and access logging off."
        echo "b) baseline: bench/sqlite_baseline.c on a copy of the same database: one"
        echo "   transaction per event (UPDATE cases + INSERT events), WAL, synchronous=FULL."
        echo "c) VmHWM of the server process at the end of the runs; it counts the pages of"
        echo "   the database file each pooled connection reads through its memory map, once"
        echo "   per connection, though the kernel holds them once and can drop them. RssAnon,"
        echo "   read at the same moment, is the memory the server itself holds."
        exhausted_note
    } >"$WORK/summary-sqlite.txt"
    # The files are not needed any more; their pages leave the cache for PostgreSQL's.
    rm -f "$db" "$db-wal" "$db-shm" "$dir"/baseline.db*
}

sqlite3_version() {
    # The library the server links, not a command-line tool that may be absent.
    pkg-config --modversion sqlite3 2>/dev/null || echo "(version unknown)"
}

# ---- PostgreSQL ----

psql_run() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

psql_value() {
    "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# pgbench at a number of clients; appends "RESULT tps=T transactions=N p50_ms=A
# p99_ms=B" to out, from its report and its per-transaction log (a sample).
run_pgbench() {
    local uri=$1 script=$2 clients=$3 seconds=$4 sampling=$5 out=$6
    shift 6
    local prefix=$WORK/pgbench-log
    rm -f "$prefix".*
    run_child env PGOPTIONS="-c synchronous_commit=on" "$PG_BIN/pgbench" -n -M prepared -c "$clients" \
        -j "$WRK_THREADS" -T "$seconds" -f "$script" -l --log-prefix="$prefix" \
        --sampling-rate="$sampling" "$@" "$uri" >"$out" 2>&1 || {
        cat "$out" >&2
        die "pgbench failed"
    }
    local tps n
    tps=$(sed -En 's/^tps = ([0-9.]+) .*/\1/p' "$out" | tail -n 1)
    n=$(sed -En 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$out")
    [[ -n "$tps" && -n "$n" ]] || {
        cat "$out" >&2
        die "no result in $out"
    }
    # The third field of a log line is the transaction's latency in microseconds.
    local pct
    pct=$(cat "$prefix".* | awk '{ print $3 }' | sort -n | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "p50_ms=n/a p99_ms=n/a"; exit }
            i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
            i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
            printf "p50_ms=%.3f p99_ms=%.3f", v[i50] / 1000, v[i99] / 1000
        }')
    rm -f "$prefix".*
    printf 'RESULT tps=%.1f transactions=%s %s\n' "$tps" "$n" "$pct" >>"$out"
}

bench_postgresql() {
    local dir=$WORK/postgresql out=$OUT/postgresql
    mkdir -m 700 "$dir"
    mkdir -p "$out"
    PG_DIR=$WORK/pg
    log "== PostgreSQL: starting a cluster in $PG_DIR"
    run_child "$ROOT/scripts/pg.sh" start "$PG_DIR" >"$dir/pg-uri.txt" 2>"$dir/pg.log" || {
        cat "$dir/pg.log" >&2
        die "the PostgreSQL cluster did not start"
    }
    local base_uri
    base_uri=$(tail -n 1 "$dir/pg-uri.txt")
    [[ "$base_uri" == postgresql://*@127.0.0.1:* ]] || die "unexpected URI from pg.sh: $base_uri"
    [[ -x "$PG_BIN/pgbench" ]] || die "$PG_BIN/pgbench is missing (package postgresql-15)"
    [[ "$(stat -c %d "$PG_DIR/data")" == "$(stat -c %d "$WORK")" ]] ||
        die "the PostgreSQL data directory is not on the same file system as $WORK"
    # The cluster pg.sh makes for the tests keeps PostgreSQL's default buffer
    # cache of 128 MB, a fraction of the database measured here: every
    # look-up would copy pages in from the kernel's cache, while the SQLite
    # server maps its whole file. Like a server set up for the load, and like
    # SQLite, the cluster gets a quarter of the memory for its buffers, as
    # PostgreSQL's documentation advises for a dedicated server; pgbench's
    # baselines run on the same cluster.
    local buffers_mib
    buffers_mib=$(awk '/^MemTotal:/ { printf "%d", $2 / 4096 }' /proc/meminfo)
    [[ "$buffers_mib" -ge 128 ]] || buffers_mib=128
    psql_run "$base_uri/postgres" "ALTER SYSTEM SET shared_buffers = '${buffers_mib}MB'" ||
        die "cannot set shared_buffers"
    local as_owner=()
    [[ $EUID -eq 0 ]] && as_owner=(runuser -u postgres --)
    "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 restart \
        >>"$dir/pg.log" 2>&1 || {
        cat "$dir/pg.log" >&2
        die "the PostgreSQL cluster did not restart"
    }

    psql_run "$base_uri/postgres" "CREATE DATABASE $PG_DBNAME" || die "cannot create the database"
    local uri=$base_uri/$PG_DBNAME
    local version
    version=$(psql_value "$uri" "SHOW server_version")
    version=${version%% *}

    load_data "$uri" "$dir"
    local db_mib
    db_mib=$(psql_value "$uri" "SELECT pg_database_size(current_database()) / 1048576")

    start_server "$uri" "$dir"
    measure_lookups "$dir" "$out"
    # As for SQLite: the write runs start with nothing pending, here neither
    # dirty pages nor a checkpoint owed for the load.
    psql_run "$uri" "CHECKPOINT"
    sync
    # Like for like with pgbench's INSERTs: each of its clients has a
    # connection with a transaction in flight, while a server thread waits for
    # its commit and so has at most one; with fewer threads than clients, the
    # server could never have as many commits in flight, to be flushed
    # together, as pgbench has. So the writes are made by a server with one
    # thread (and so one pooled connection) per client.
    measure_events "$dir" "$out" "$uri" "$EVENT_CONNECTIONS"

    # The store's own limits, on the same cluster and data, with the server stopped.
    local lo hi count
    IFS='|' read -r lo hi count < <(psql_value "$uri" "SELECT min(id), max(id), count(*) FROM cases")
    [[ -n "$count" && "$count" -gt 0 && $((hi - lo + 1)) -eq "$count" ]] ||
        die "case ids are not one run from $lo to $hi"
    # An event row's table: its columns, defaults, checks, indexes and its
    # reference to the case's state, so that an INSERT costs what an event's
    # costs.
    psql_run "$uri" "CREATE TABLE bench_events (LIKE events INCLUDING ALL);
        ALTER TABLE bench_events ADD FOREIGN KEY (case_id) REFERENCES case_states (case_id)"
    # pgbench draws numbers, not strings: the n-th reference is read from a
    # side table in the same statement, by an index-only scan.
    psql_run "$uri" "CREATE TABLE bench_refs (n integer, reference text NOT NULL,
            PRIMARY KEY (n) INCLUDE (reference));
        INSERT INTO bench_refs SELECT row_number() OVER (ORDER BY id), reference FROM cases"
    psql_run "$uri" "VACUUM ANALYZE bench_refs"
    cat >"$dir/insert.sql" <<'EOF'
\set case_id random(:lo, :hi)
INSERT INTO bench_events (case_id, type, from_stage, stage, body, rating, public, actor, created_at)
    VALUES (:case_id, 'stage_change', 'investigating', 'awaiting_forensics', NULL, 0, false, 'bench',
            extract(epoch FROM now())::bigint);
EOF
    cat >"$dir/select.sql" <<'EOF'
\set n random(1, :count)
SELECT id, org_id, service_id, reference, summary, secret_hash, opened_at, closed_at, person_id
    FROM cases WHERE reference = (SELECT reference FROM bench_refs WHERE n = :n);
EOF

    log "b) one-row INSERTs with pgbench, $EVENT_CONNECTIONS clients, ${SECONDS_PER_RUN}s"
    psql_run "$uri" "CHECKPOINT"
    sync
    run_pgbench "$uri" "$dir/insert.sql" "$EVENT_CONNECTIONS" "$SECONDS_PER_RUN" 1 \
        "$out/pgbench-insert.txt" -D lo="$lo" -D hi="$hi"
    log "a) SELECTs of a case by reference with pgbench, $TRACK_CONNECTIONS clients, ${SECONDS_PER_RUN}s"
    if [[ "$WARMUP" -gt 0 ]]; then
        run_pgbench "$uri" "$dir/select.sql" "$TRACK_CONNECTIONS" "$WARMUP" 0.01 \
            "$dir/pgbench-warmup.txt" -D count="$count"
    fi
    run_pgbench "$uri" "$dir/select.sql" "$TRACK_CONNECTIONS" "$SECONDS_PER_RUN" \
        "$SELECT_SAMPLING" "$out/pgbench-select.txt" -D count="$count"
    local insert_res select_res
    insert_res=$(result_line "$out/pgbench-insert.txt")
    select_res=$(result_line "$out/pgbench-select.txt")

    local track_rps select_tps
    track_rps=$(field "$(result_line "$out/wrk-track.txt")" rps)
    select_tps=$(field "$select_res" tps)
    {
        echo "== PostgreSQL $version, shared_buffers ${buffers_mib} MiB =="
        echo "data: $CASES cases, 5 events each, loaded in ${load_seconds}s; database ${db_mib} MiB"
        echo
        api_rows "$out"
        row "   the store alone: cases by reference/s" "" "$select_tps" "$(ratio "$track_rps" "$select_tps")"
        row "   its latency p50, ms" "" "$(field "$select_res" p50_ms)" ""
        row "   its latency p99, ms" "" "$(field "$select_res" p99_ms)" ""
        events_rows "$out" "$(field "$insert_res" tps)" "$(field "$insert_res" transactions)" \
            "$(field "$insert_res" p50_ms)" "$(field "$insert_res" p99_ms)"
        memory_rows
        echo
        echo "a) baseline: nginx serving a static file of the same size as a tracking answer"
        echo "   (${response_bytes} bytes), with sendfile and access logging off."
        echo "   The store alone: pgbench, $TRACK_CONNECTIONS clients, prepared statements, one"
        echo "   SELECT of a random case by reference per transaction (the reference read"
        echo "   from a side table in the same statement); its ratio is opencase's"
        echo "   look-ups/s to it."
        echo "b) baseline: pgbench, $EVENT_CONNECTIONS clients, prepared statements, one INSERT per"
        echo "   transaction into a copy of the events table (indexes, checks and reference"
        echo "   to the case's state included), synchronous_commit on, fsync on. opencase made its"
        echo "   stage changes with $EVENT_CONNECTIONS threads, one per client as pgbench has."
        echo "c) VmHWM of the opencase process, the higher of its two runs' ($THREADS and"
        echo "   $EVENT_CONNECTIONS threads), and RssAnon at the end; the PostgreSQL server's"
        echo "   processes are not counted."
        exhausted_note
    } >"$WORK/summary-postgresql.txt"
    stop_postgresql
}

# ---- tools and build ----
for backend in $BACKENDS; do
    case $backend in
    sqlite | postgresql) ;;
    *) die "unknown backend '$backend' in BENCH_BACKENDS (sqlite, postgresql)" ;;
    esac
done
[[ -n "${BACKENDS// /}" ]] || die "BENCH_BACKENDS names no backend"

need_package wrk wrk
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null 2>&1 || need_package nginx nginx-light
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
need_package curl curl
need_package cc gcc
need_package setsid util-linux

cd "$ROOT"
if [[ -d build-bench ]]; then
    meson configure build-bench -Dbuildtype=release -Dtests=disabled >/dev/null
else
    meson setup build-bench --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C build-bench >/dev/null || die "build failed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/opencase-bench.XXXXXX")
# PostgreSQL's cluster runs as its own user, in a directory inside this one.
chmod 711 "$WORK"
rm -rf "$OUT/sqlite" "$OUT/postgresql"
mkdir -p "$OUT"
for backend in $BACKENDS; do
    exhausted=0
    "bench_$backend"
done

# ---- summary ----
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ "$rev" != unknown ]] && ! git -C "$ROOT" diff --quiet HEAD 2>/dev/null; then
    rev="$rev with local changes"
fi
disk=$(df -P "$WORK" | awk 'NR == 2 { print $1 }')
fstype=$(df -PT "$WORK" | awk 'NR == 2 { print $2 }')
{
    echo "opencase benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $rev"
    echo "machine: $(nproc) CPUs (${cpu:-unknown}), $(uname -sr)"
    echo "storage: every database on $disk ($fstype)"
    echo "server: $THREADS threads; nginx: $THREADS workers; wrk and pgbench: $WRK_THREADS threads, ${SECONDS_PER_RUN}s per run"
    for backend in $BACKENDS; do
        echo
        cat "$WORK/summary-$backend.txt"
    done
} | tee "$OUT/latest.txt"
