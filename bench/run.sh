#!/usr/bin/env bash
# run.sh - measures opencase against the machine's own limits.
#
# a) Public tracking look-ups (GET /api/v1/track/{ref} with X-Tracking-Secret)
#    against nginx serving a static file of the same size: how close the
#    dynamic, authenticated answer comes to the cheapest possible HTTP answer.
# b) Durable stage changes through the API against the same writes made
#    directly with SQLite (bench/sqlite_baseline.c): what HTTP, JSON,
#    authentication and the workflow cost on top of the fsync.
# c) The server's peak resident memory.
#
# Everything runs on 127.0.0.1 in a temporary directory that is removed on
# exit. The summary is printed and written to bench/out/latest.txt, next to the
# raw wrk outputs.
#
# Environment: BENCH_CASES (1000000), BENCH_SECONDS (20), BENCH_WARMUP (3),
# OPENCASE_THREADS (4), BENCH_BASELINE_ROWS (0 = as many as time allows).
set -euo pipefail

CASES=${BENCH_CASES:-1000000}
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
WARMUP=${BENCH_WARMUP:-3}
THREADS=${OPENCASE_THREADS:-4}
BASELINE_ROWS=${BENCH_BASELINE_ROWS:-0}
WRK_THREADS=2
TRACK_CONNECTIONS=64
EVENT_CONNECTIONS=16

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
OUT="$BENCH/out"
BIN="$ROOT/build-bench/opencase"

WORK=""
SERVER_PID=""
NGINX_PID=""
CHILD_PID=""

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

stop_pid() {
    local pid=$1
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    stop_pid "$CHILD_PID"
    stop_pid "$SERVER_PID"
    stop_pid "$NGINX_PID"
    CHILD_PID="" SERVER_PID="" NGINX_PID=""
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

# Runs a long step as a child and waits for it, so that a signal reaches the
# trap at once rather than when the step ends.
run_child() {
    local rc=0
    "$@" &
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

run_wrk() {
    local out=$1 connections=$2 script=$3 url=$4
    shift 4
    run_child wrk -t"$WRK_THREADS" -c"$connections" -d"${SECONDS_PER_RUN}s" --latency \
        -s "$script" "$url" -- "$@" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed"; }
}

warm_up() {
    local script=$1 url=$2
    shift 2
    [[ "$WARMUP" -gt 0 ]] || return 0
    run_child wrk -t"$WRK_THREADS" -c"$TRACK_CONNECTIONS" -d"${WARMUP}s" -s "$script" "$url" \
        -- "$@" >/dev/null 2>&1 || die "wrk warm-up failed"
}

# ---- tools and build ----
need_package wrk wrk
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null 2>&1 || need_package nginx nginx-light
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
need_package curl curl
need_package cc gcc

cd "$ROOT"
if [[ -d build-bench ]]; then
    meson configure build-bench -Dbuildtype=release -Dtests=disabled >/dev/null
else
    meson setup build-bench --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C build-bench >/dev/null || die "build failed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/opencase-bench.XXXXXX")
mkdir -p "$OUT"
cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$WORK/sqlite_baseline" "$BENCH/sqlite_baseline.c" \
    -lsqlite3 || die "cannot build the SQLite baseline"

# ---- data ----
DB="$WORK/bench.db"
CREDS="$WORK/credentials.txt"
log "loading $CASES demo cases"
"$BIN" --db "$DB" init >/dev/null
load_start=$(date +%s.%N)
run_child "$BIN" --db "$DB" demo --cases "$CASES" --events 5 --credentials "$CREDS" \
    >"$WORK/demo.log" || die "the demo data could not be loaded"
load_seconds=$(awk -v a="$load_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
[[ -s "$CREDS" ]] || die "the demo wrote no credentials"
db_mib=$(du -m "$DB" | cut -f1)

# The baseline writes to its own copy, taken before the server changes anything.
cp "$DB" "$WORK/baseline.db"
if [[ -f "$DB-wal" ]]; then cp "$DB-wal" "$WORK/baseline.db-wal"; fi

awk '$3 == "investigating" && $4 == "burglary" { print $1 }' "$CREDS" >"$WORK/investigating.txt"
n_investigating=$(wc -l <"$WORK/investigating.txt")
[[ "$n_investigating" -gt 0 ]] || die "no burglary case at stage investigating"

API_KEY=$("$BIN" --db "$DB" key create --org wessex-police --label bench 2>>"$WORK/demo.log" |
    grep -oE '[A-Za-z0-9_-]{20,}' | tail -n 1) || true
[[ -n "$API_KEY" ]] || die "cannot create an API key"

# ---- servers ----
PORT=$(spare_port)
log "starting opencase on 127.0.0.1:$PORT with $THREADS threads"
OPENCASE_THREADS=$THREADS "$BIN" --db "$DB" --listen "127.0.0.1:$PORT" serve \
    >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_http "http://127.0.0.1:$PORT/healthz" "$SERVER_PID" ||
    { cat "$WORK/server.log" >&2; die "opencase did not start"; }
BASE="http://127.0.0.1:$PORT"

read -r sample_ref sample_secret _ <"$CREDS"
mkdir -p "$WORK/www"
curl -fsS -H "X-Tracking-Secret: $sample_secret" -o "$WORK/www/track.json" \
    "$BASE/api/v1/track/$sample_ref" || die "tracking look-up of $sample_ref failed"
response_bytes=$(wc -c <"$WORK/www/track.json")

NGINX_PORT=$(spare_port)
while [[ "$NGINX_PORT" == "$PORT" ]]; do NGINX_PORT=$(spare_port); done
mkdir -p "$WORK/nginx"
{
    # Workers run as whoever runs the benchmark; the directive only counts for root.
    [[ $EUID -eq 0 ]] && echo "user $(id -un) $(id -gn);"
    cat <<EOF
worker_processes $THREADS;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile off;
    keepalive_requests 100000000;
    default_type application/json;
    client_body_temp_path $WORK/nginx/client_body;
EOF
    # Only the temp paths of modules this nginx was built with are accepted.
    for module in proxy fastcgi uwsgi scgi; do
        if ! "$NGINX" -V 2>&1 | grep -q -- "--without-http_${module}_module"; then
            echo "    ${module}_temp_path $WORK/nginx/$module;"
        fi
    done
    cat <<EOF
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WORK/www;
    }
}
EOF
} >"$WORK/nginx/nginx.conf"
log "starting nginx on 127.0.0.1:$NGINX_PORT with $THREADS workers"
"$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" \
    >"$WORK/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
wait_http "http://127.0.0.1:$NGINX_PORT/track.json" "$NGINX_PID" ||
    { cat "$WORK/nginx/error.log" >&2; die "nginx did not start"; }

# ---- a) tracking look-ups ----
log "a) tracking look-ups: opencase, ${SECONDS_PER_RUN}s"
warm_up "$BENCH/track.lua" "$BASE" "$CREDS" "$WRK_THREADS"
run_wrk "$OUT/wrk-track.txt" "$TRACK_CONNECTIONS" "$BENCH/track.lua" "$BASE" "$CREDS" "$WRK_THREADS"
log "a) tracking look-ups: nginx static file, ${SECONDS_PER_RUN}s"
warm_up "$BENCH/track.lua" "http://127.0.0.1:$NGINX_PORT" "$CREDS" "$WRK_THREADS" /track.json
run_wrk "$OUT/wrk-nginx.txt" "$TRACK_CONNECTIONS" "$BENCH/track.lua" \
    "http://127.0.0.1:$NGINX_PORT" "$CREDS" "$WRK_THREADS" /track.json
stop_pid "$NGINX_PID"
NGINX_PID=""

# ---- b) durable stage changes ----
# Both write runs start with no dirty pages pending, so neither pays for the
# other's (or the load's) writeback in its fsyncs.
sync
log "b) stage changes through the API, ${SECONDS_PER_RUN}s ($n_investigating cases available)"
run_wrk "$OUT/wrk-events.txt" "$EVENT_CONNECTIONS" "$BENCH/events.lua" "$BASE" \
    "$WORK/investigating.txt" "$WRK_THREADS" "$API_KEY"

# ---- c) memory ----
peak_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
anon_kib=$(awk '/^RssAnon:/ { print $2 }' "/proc/$SERVER_PID/status")
stop_pid "$SERVER_PID"
SERVER_PID=""

log "b) the same writes straight into SQLite, ${SECONDS_PER_RUN}s"
sync
run_child "$WORK/sqlite_baseline" "$WORK/baseline.db" "$SECONDS_PER_RUN" "$BASELINE_ROWS" \
    >"$OUT/sqlite-baseline.txt" || die "the SQLite baseline failed"

# ---- summary ----
track=$(result_line "$OUT/wrk-track.txt")
nginx=$(result_line "$OUT/wrk-nginx.txt")
events=$(result_line "$OUT/wrk-events.txt")
baseline=$(cat "$OUT/sqlite-baseline.txt")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

track_rps=$(field "$track" rps)
nginx_rps=$(field "$nginx" rps)
events_ps=$(field "$events" created_ps)
baseline_ps=$(field "$baseline" rows_per_s)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

row() { printf '%-42s %14s %14s %7s\n' "$@"; }
{
    echo "opencase benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "machine: $(nproc) CPUs (${cpu:-unknown}), $(uname -sr)"
    echo "data: $CASES cases, 5 events each, loaded in ${load_seconds}s; database ${db_mib} MiB"
    echo "server: $THREADS threads; nginx: $THREADS workers; wrk: $WRK_THREADS threads, ${SECONDS_PER_RUN}s per run"
    echo
    row "" "opencase" "baseline" "ratio"
    row "a) tracking look-ups/s, $TRACK_CONNECTIONS connections" "$track_rps" "$nginx_rps" \
        "$(ratio "$track_rps" "$nginx_rps")"
    row "   latency p50, ms" "$(field "$track" p50_ms)" "$(field "$nginx" p50_ms)" ""
    row "   latency p99, ms" "$(field "$track" p99_ms)" "$(field "$nginx" p99_ms)" ""
    row "   non-2xx responses" "$(field "$track" non2xx)" "$(field "$nginx" non2xx)" ""
    row "b) durable stage changes/s, $EVENT_CONNECTIONS connections" "$events_ps" "$baseline_ps" \
        "$(ratio "$events_ps" "$baseline_ps")"
    row "   events written (201 / rows)" "$(field "$events" created)" "$(field "$baseline" rows)" ""
    row "   other responses (status:count)" "$(field "$events" statuses)" "" ""
    row "   latency p50, ms" "$(field "$events" p50_ms)" "" ""
    row "   latency p99, ms" "$(field "$events" p99_ms)" "" ""
    row "c) server peak resident memory, MiB" \
        "$(awk -v k="$peak_kib" 'BEGIN { printf "%.1f", k / 1024 }')" "" ""
    row "   private memory (RssAnon) at the end, MiB" \
        "$(awk -v k="$anon_kib" 'BEGIN { printf "%.1f", k / 1024 }')" "" ""
    echo
    echo "a) baseline: nginx serving a static file of the same size as a tracking answer"
    echo "   (${response_bytes} bytes), with sendfile and access logging off."
    echo "b) baseline: bench/sqlite_baseline.c on a copy of the same database: one"
    echo "   transaction per event (UPDATE cases + INSERT events), WAL, synchronous=FULL."
    echo "c) VmHWM of the server process at the end of the runs; it counts the pages of"
    echo "   the database file each pooled connection reads through its memory map, once"
    echo "   per connection, though the kernel holds them once and can drop them. RssAnon,"
    echo "   read at the same moment, is the memory the server itself holds."
    if [[ "$(field "$events" exhausted)" == "1" || "$baseline" == *exhausted=1* ]]; then
        echo "note: the cases at stage investigating ran out; raise BENCH_CASES for a longer run."
    fi
} | tee "$OUT/latest.txt"
