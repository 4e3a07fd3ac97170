#!/usr/bin/env bash
# appeals.sh - the map of appeals for witnesses under load, on SQLite.
#
# Loads BENCH_APPEALS (100,000) published appeals spread at random over Great
# Britain's box (about 1,600 per square degree) into a fresh database, then
# measures with wrk on 127.0.0.1:
# a) map views: GET /api/v1/public/appeals (JSON, the first page of 50) and
#    /api/v1/public/appeals.geojson (every appeal in view, up to 1,000) for
#    random boxes of a town (0.2 x 0.1 degree, about 14 x 11 km, ~30 appeals)
#    and of a county (1 x 0.5 degree, ~800 appeals);
# b) durable answers: POST /api/v1/public/appeals/{id}/answers, named and
#    anonymous in turn, each from its own made-up client address (the server
#    trusts 127.0.0.1 as a proxy) so that the per-address limit does not
#    count the benchmark as one witness. A 201 is an answer and its event
#    committed with synchronous=FULL.
# Everything runs in a temporary directory removed on exit; the server is
# stopped on exit, failure and ^C. The summary is printed and written to
# bench/out/appeals.txt.
#
# Environment: BENCH_APPEALS (100000), BENCH_SECONDS (20), BENCH_WARMUP (3),
# OPENCASE_THREADS (4), BENCH_CONNECTIONS (64 for reads, a quarter for writes).
set -euo pipefail

APPEALS=${BENCH_APPEALS:-100000}
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
WARMUP=${BENCH_WARMUP:-3}
THREADS=${OPENCASE_THREADS:-4}
READ_CONNECTIONS=${BENCH_CONNECTIONS:-64}
WRITE_CONNECTIONS=$((READ_CONNECTIONS / 4))
WRK_THREADS=2

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
OUT="$BENCH/out"
BIN="$ROOT/build-bench/opencase"
WORK=""
SERVER_PID=""

log() { printf '[bench] %s\n' "$*" >&2; }
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

for cmd in wrk sqlite3 curl; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd is needed (apt-get install wrk sqlite3 curl)"
done

cd "$ROOT"
if [[ -d build-bench ]]; then
    meson configure build-bench -Dbuildtype=release -Dtests=disabled >/dev/null
else
    meson setup build-bench --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C build-bench >/dev/null || die "build failed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/opencase-appeals.XXXXXX")
DB="$WORK/bench.db"
mkdir -p "$OUT"

log "loading $APPEALS published appeals"
"$BIN" --db "$DB" init >/dev/null
OPENCASE_DEMO_PASSWORD=bench "$BIN" --db "$DB" demo --cases 1000 >/dev/null 2>&1 ||
    die "demo data failed"
# Appeals of the demo cases, at random points of Great Britain's box, published
# over the last sixty days; the triggers put each on the map's R*Tree.
sqlite3 "$DB" <<SQL
PRAGMA foreign_keys = ON;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $APPEALS),
     c AS (SELECT id, org_id, row_number() OVER (ORDER BY id) - 1 AS k,
                  count(*) OVER () AS total FROM cases),
     p AS (SELECT i, 500000000 + abs(random()) % 85000000 AS lat,
                  -55000000 + abs(random()) % 72000000 AS lon FROM n)
INSERT INTO appeals (org_id, case_id, status, title, description, category, occurred_from,
                     contact, expires_at, true_lat, true_lon, pub_lat, pub_lon, precision, cell_m,
                     created_at, updated_at, published_at)
SELECT c.org_id, c.id, 'published', 'Witnesses sought ' || p.i,
       'Did you see anything near here? Any detail may help.',
       json_extract('["assault","burglary","criminal-damage","theft","robbery","road-collision"]',
                    '\$[' || (p.i % 6) || ']'),
       unixepoch() - 86400 * 10, 'Call 101', unixepoch() + 86400 * 60, p.lat, p.lon, p.lat, p.lon,
       'exact', 0, unixepoch() - 86400 * 60, unixepoch() - 86400 * 60,
       unixepoch() - abs(random()) % (86400 * 60)
FROM p JOIN c ON c.k = p.i % c.total;
COMMIT;
ANALYZE;
SQL
loaded=$(sqlite3 "$DB" "SELECT count(*) FROM appeals_map")
[[ "$loaded" -eq "$APPEALS" ]] || die "the map holds $loaded appeals, not $APPEALS"

PORT=$((20000 + RANDOM % 40000))
OPENCASE_THREADS=$THREADS "$BIN" --db "$DB" --listen "127.0.0.1:$PORT" \
    --trusted-proxies 127.0.0.1 serve 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited: $(cat "$WORK/server.log")"
    sleep 0.1
done
URL="http://127.0.0.1:$PORT"

# The number of appeals one sample view holds, to say what a view costs.
town=$(curl -fsS "$URL/api/v1/public/appeals.geojson?bbox=-1.9,50.7,-1.7,50.8" | grep -o '"Feature"' | wc -l)
county=$(curl -fsS "$URL/api/v1/public/appeals.geojson?bbox=-2.5,51,-1.5,51.5" | grep -o '"Feature"' | wc -l)

# field NAME LINE: the value of NAME=... in a RESULT line.
field() { sed -En "s/(^|.*[[:space:]])$1=([^[:space:]]*).*/\2/p" <<<"$2"; }

run_wrk() {
    local name=$1 connections=$2 script=$3
    shift 3
    wrk -t"$WRK_THREADS" -c"$connections" -d"${WARMUP}s" -s "$script" "$URL" -- "$@" >/dev/null
    wrk -t"$WRK_THREADS" -c"$connections" -d"${SECONDS_PER_RUN}s" --latency -s "$script" "$URL" \
        -- "$@" >"$WORK/$name.txt"
    grep '^RESULT ' "$WORK/$name.txt" | tail -n 1
}

declare -A rate p50 p99 bytes
for view in town county; do
    if [[ $view == town ]]; then size=(0.2 0.1); else size=(1 0.5); fi
    for kind in json geojson; do
        path=/api/v1/public/appeals
        [[ $kind == geojson ]] && path=/api/v1/public/appeals.geojson
        log "map views: $kind, a $view ($READ_CONNECTIONS connections, ${SECONDS_PER_RUN}s)"
        line=$(run_wrk "$view-$kind" "$READ_CONNECTIONS" "$BENCH/appeals_bbox.lua" "$path" "${size[@]}")
        [[ "$(field other "$line")" == 0 ]] || die "non-200 answers: $line"
        rate[$view-$kind]=$(field ok_ps "$line")
        p50[$view-$kind]=$(field p50_ms "$line")
        p99[$view-$kind]=$(field p99_ms "$line")
        bytes[$view-$kind]=$(field mean_bytes "$line")
    done
done

log "durable answers ($WRITE_CONNECTIONS connections, ${SECONDS_PER_RUN}s)"
answers=$(run_wrk answers "$WRITE_CONNECTIONS" "$BENCH/appeals_answers.lua" "$APPEALS")
stored=$(sqlite3 "$DB" "SELECT count(*) FROM appeal_answers")
created=$(field created "$answers")
# Every 201 of the warm-up and the run is an answer on disk.
[[ "$stored" -ge "$created" ]] || die "$created answers acknowledged but $stored stored"

summary=$(
    printf 'Appeals for witnesses: %s published appeals on SQLite, %s server threads, %s s per figure\n' \
        "$APPEALS" "$THREADS" "$SECONDS_PER_RUN"
    printf 'A town view holds %s appeals, a county view %s.\n\n' "$town" "$county"
    printf '%-34s %12s %10s %10s %12s\n' "" "requests/s" "p50 ms" "p99 ms" "mean bytes"
    for view in town county; do
        for kind in json geojson; do
            printf '%-34s %12s %10s %10s %12s\n' "map view, $view, $kind" "${rate[$view-$kind]}" \
                "${p50[$view-$kind]}" "${p99[$view-$kind]}" "${bytes[$view-$kind]}"
        done
    done
    printf '%-34s %12s %10s %10s\n' "durable answers ($(field other "$answers") refused)" \
        "$(field created_ps "$answers")" "$(field p50_ms "$answers")" "$(field p99_ms "$answers")"
)
printf '%s\n' "$summary" | tee "$OUT/appeals.txt"
