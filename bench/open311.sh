#!/usr/bin/env bash
# open311.sh - the Open311 server under load, on a database of BENCH_CASES
# demo cases (1,000,000 by default), on SQLite:
# a) POST requests.xml: reports posted as FixMyStreet posts them
#    (form-urlencoded, attributes, a fixmystreet_id each), every one a new
#    case committed durably before it is answered: cases per second.
# b) GET requests.xml for the default window, the last 90 days of the
#    council's Open311 services (at most 1000 requests, most recent first):
#    documents per second and the requests each holds.
#
# Everything runs on 127.0.0.1 in a temporary directory removed on exit;
# every process started is stopped on exit, on failure and on ^C. The summary
# is printed and written to bench/out/open311.txt.
#
# Environment: BENCH_CASES (1000000), BENCH_SECONDS (20), OPENCASE_THREADS
# (4), BENCH_POST_CONNECTIONS (16), BENCH_GET_CONNECTIONS (16).
set -euo pipefail

CASES=${BENCH_CASES:-1000000}
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
THREADS=${OPENCASE_THREADS:-4}
POST_CONNECTIONS=${BENCH_POST_CONNECTIONS:-16}
GET_CONNECTIONS=${BENCH_GET_CONNECTIONS:-16}
WRK_THREADS=2

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
OUT="$BENCH/out"
BIN="$ROOT/build-bench/opencase"
WORK=""
SERVER_PID=""

log() { printf '[open311 bench] %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

cleanup() {
    trap '' INT TERM
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [[ -n "$WORK" && -d "$WORK" ]] && rm -rf "$WORK"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v wrk >/dev/null || die "wrk is needed (apt-get install wrk)"
command -v curl >/dev/null || die "curl is needed"
command -v sqlite3 >/dev/null || die "sqlite3 is needed"

cd "$ROOT"
if [[ -d build-bench ]]; then
    meson configure build-bench -Dbuildtype=release -Dtests=disabled >/dev/null
else
    meson setup build-bench --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C build-bench >/dev/null || die "build failed"

WORK=$(mktemp -d)
DB="$WORK/open311.db"
mkdir -p "$OUT"
log "loading $CASES demo cases"
"$BIN" --db "$DB" demo --cases "$CASES" --events 5 >"$WORK/demo.log" 2>&1 || die "demo load failed"
KEY=$("$BIN" --db "$DB" key create --org northshire --label bench --role caseworker 2>/dev/null | tail -n 1)
[[ -n "$KEY" ]] || die "no API key"

PORT=$((20000 + RANDOM % 40000))
"$BIN" --db "$DB" --listen "127.0.0.1:$PORT" --threads "$THREADS" serve 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server did not start"
    sleep 0.1
done
URL="http://127.0.0.1:$PORT/open311/v2"

# The 90-day window: how many requests one document holds, and its size.
curl -fsS -o "$WORK/window.xml" "$URL/requests.xml?jurisdiction_id=northshire" || die "GET failed"
WINDOW_ITEMS=$(grep -o '<request>' "$WORK/window.xml" | wc -l)
WINDOW_BYTES=$(stat -c %s "$WORK/window.xml")

log "POST requests.xml, $POST_CONNECTIONS connections, ${SECONDS_PER_RUN}s"
wrk -t"$WRK_THREADS" -c"$POST_CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency \
    -s "$BENCH/open311_post.lua" "$URL/requests.xml" -- "$KEY" "run$$" >"$WORK/post.txt" 2>&1 ||
    die "wrk failed: $(cat "$WORK/post.txt")"

log "GET requests.xml (last 90 days), $GET_CONNECTIONS connections, ${SECONDS_PER_RUN}s"
wrk -t"$WRK_THREADS" -c"$GET_CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency \
    "$URL/requests.xml?jurisdiction_id=northshire" >"$WORK/get.txt" 2>&1 ||
    die "wrk failed: $(cat "$WORK/get.txt")"

rate() { awk '/^Requests\/sec/ {print $2}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {n = $NF} END {print n + 0}' "$1"; }
CREATED=$(sed -n 's/^open311 created=\([0-9]*\) other=\([0-9]*\)$/\1/p' "$WORK/post.txt")
OTHER=$(sed -n 's/^open311 created=\([0-9]*\) other=\([0-9]*\)$/\2/p' "$WORK/post.txt")
TOTAL=$(sqlite3 "$DB" 'SELECT count(*) FROM cases' 2>/dev/null || echo "?")

{
    echo "Open311 benchmark: $CASES demo cases, SQLite, $THREADS server threads, ${SECONDS_PER_RUN}s per figure"
    echo "POST requests.xml (durable new cases), $POST_CONNECTIONS connections:"
    echo "  $(rate "$WORK/post.txt") requests/s; created $CREATED, other answers ${OTHER:-0};" \
        "latency p50 $(pct "$WORK/post.txt" 50%) p99 $(pct "$WORK/post.txt" 99%)"
    echo "GET requests.xml, default 90-day window ($WINDOW_ITEMS requests, $WINDOW_BYTES bytes each), $GET_CONNECTIONS connections:"
    echo "  $(rate "$WORK/get.txt") documents/s; non-2xx $(non2xx "$WORK/get.txt"); latency p50" \
        "$(pct "$WORK/get.txt" 50%) p99 $(pct "$WORK/get.txt" 99%)"
    echo "cases in the database at the end: $TOTAL"
} | tee "$OUT/open311.txt"
