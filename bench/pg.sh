#!/usr/bin/env bash
# Durable webhook ingest of `kanca serve --database` on PostgreSQL (auth, parse, the event and its
# call committed in one transaction, fsync on) with one receiver and with two receivers sharing
# the database, against `kanca serve` on SQLite and the ceiling example (axum parsing the JSON
# body and nothing else), with wrk; the number of calls PostgreSQL stored; then the pg_search
# example's query latency on a table of CALLS synthetic calls in the same server. Starts its
# own throw-away PostgreSQL (initdb into a temporary directory, Unix socket only) and removes it
# afterwards. Prints figures; not a test.
#
#   bench/pg.sh                          # defaults: DURATION=10s THREADS=2 CONNS=32 CALLS=1000000
#   DURATION=3s CALLS=100000 bench/pg.sh # a quick run
#   DURATION=30s CONNS=64 bench/pg.sh
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
CALLS=${CALLS:-1000000}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
USER_NAME=bench
PASSWORD=bench-password
# Two receivers: each gets its own wrk with half the connections and half the threads, so the
# load generator costs what it costs against one receiver.
HALF_CONNS=$(( CONNS / 2 > 0 ? CONNS / 2 : 1 ))
HALF_THREADS=$(( THREADS / 2 > 0 ? THREADS / 2 : 1 ))

command -v wrk >/dev/null || { echo "wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 not found (it counts the calls SQLite stored)" >&2; exit 1; }
# The newest PostgreSQL server installed (Debian: /usr/lib/postgresql/VERSION/bin).
PG_VERSION=$(for d in /usr/lib/postgresql/*/; do
  v=$(basename "$d"); [ -x "$d/bin/initdb" ] && [[ $v =~ ^[0-9]+$ ]] && echo "$v"; done | sort -n | tail -n1 || true)
[ -n "$PG_VERSION" ] || { echo "no PostgreSQL server under /usr/lib/postgresql (Debian: apt-get install postgresql postgresql-contrib)" >&2; exit 1; }
PG_BIN=/usr/lib/postgresql/$PG_VERSION/bin

echo "== building (release)"
# One invocation, so all share one feature resolution and later runs rebuild nothing.
cargo build --release -p kanca -p kanca-core --bin kanca --example ceiling --example pg_search
KANCA=$TARGET/release/kanca
CEILING=$TARGET/release/examples/ceiling
PG_SEARCH=$TARGET/release/examples/pg_search

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kanca-bench-pg.XXXXXX")
# PostgreSQL refuses to run as root: as root, the server runs as the postgres user (which the
# Debian package creates) and owns the temporary directory; root still writes its own files there.
RUN_AS=()
if [ "$(id -u)" = 0 ]; then
  RUN_AS=(runuser -u postgres --)
  chown postgres "$WORK"
fi
PGDATA_DIR=$WORK/pgdata
URL="host=$WORK user=kanca dbname=postgres"
PG_STARTED=
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$PG_STARTED" ]; then
    "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_value() { "$PG_BIN/psql" -X -q -A -t -h "$WORK" -U kanca -d "${2:-postgres}" -c "$1"; }

echo "== PostgreSQL $PG_VERSION in $WORK (fsync on, Unix socket only)"
"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$PGDATA_DIR" -U kanca -A trust --no-sync -E UTF8 --locale C >"$WORK/initdb.log" 2>&1 \
  || { cat "$WORK/initdb.log" >&2; exit 1; }
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/postgres.log" -w -t 60 \
  -o "-k $WORK -c listen_addresses='' -c max_connections=200" start >/dev/null \
  || { cat "$WORK/postgres.log" >&2; exit 1; }
PG_STARTED=1
echo "fsync=$(psql_value 'SHOW fsync') synchronous_commit=$(psql_value 'SHOW synchronous_commit')" \
  "wal_sync_method=$(psql_value 'SHOW wal_sync_method') shared_buffers=$(psql_value 'SHOW shared_buffers')"

# wait_url OUTFILE PID: prints the URL from the "Webhook URL: ..." line.
wait_url() {
  local out=$1 pid=$2 url
  for _ in $(seq 300); do
    url=$(sed -n 's/^Webhook URL: //p' "$out" | head -n1)
    if [ -n "$url" ]; then echo "$url"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "server $pid exited:" >&2; cat "${out%.out}.err" >&2 || true; return 1; }
    sleep 0.1
  done
  echo "no 'Webhook URL:' line after 30 s" >&2
  return 1
}

# Two wrk started in the same second seed ingest.lua's run tag alike and would post the same
# events (stored once, as duplicates). This wrapper gives each wrk instance
# (KANCA_BENCH_INSTANCE) its own uuids and start times.
cat >"$WORK/instance.lua" <<LUA
dofile("$ROOT/bench/ingest.lua")
local instance = tonumber(os.getenv("KANCA_BENCH_INSTANCE") or "0")
local ingest_init = init
function init(args)
  ingest_init(args)
  run = (run % 100000000) * 10 + instance
  base_ts = base_ts + instance * 500
end
LUA

# load URL NAME [THREADS CONNS INSTANCE]: runs wrk, keeps its output in $WORK/NAME.wrk, prints the
# RESULT line. With INSTANCE, through the wrapper above.
load() {
  local script=$ROOT/bench/ingest.lua
  [ -z "${5:-}" ] || script=$WORK/instance.lua
  KANCA_BENCH_AUTH="Basic $(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)" KANCA_BENCH_INSTANCE=${5:-0} \
    wrk -t"${3:-$THREADS}" -c"${4:-$CONNS}" -d"$DURATION" --latency -s "$script" "$1" >"$WORK/$2.wrk"
  grep '^RESULT' "$WORK/$2.wrk"
}

field() { sed -n "s/.*[ ]$1=\([0-9]*\).*/\1/p" <<<"$2"; }

# serve NAME ARGS...: starts `kanca serve ARGS` with the bench credentials; sets SERVE_PID and
# SERVE_URL.
serve() {
  local name=$1; shift
  KANCA_WEBHOOK_USER=$USER_NAME KANCA_WEBHOOK_PASSWORD=$PASSWORD \
    "$KANCA" serve --listen 127.0.0.1:0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  SERVE_URL=$(wait_url "$WORK/$name.out" "$SERVE_PID")
}

# stop PID VAR: SIGTERM, wait, and set VAR to the exit code.
stop() {
  local code=0 keep=() p
  kill -TERM "$1"
  wait "$1" || code=$?
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
  printf -v "$2" '%s' "$code"
}

# CPU time in clock ticks: of process PID (ticks PID); of the PostgreSQL server, its exited
# backends included (pg_ticks); of the whole machine, busy and in all (machine_ticks).
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
pg_ticks() {
  local pm total c
  pm=$(head -n1 "$PGDATA_DIR/postmaster.pid")
  total=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
  for c in $(ps -o pid= --ppid "$pm"); do
    total=$(( total + $(awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
# busy_share "BUSY0 ALL0" "BUSY1 ALL1": percent of the machine's CPU in use in between
busy_share() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f%%", 100 * (y[1] - x[1]) / (y[2] - x[2]) }'; }
HZ=$(getconf CLK_TCK)

echo "== kanca serve --database (one receiver)"
serve pg1 --data-dir "$WORK/pg1-dir" --database "$URL"
PG1_PID=$SERVE_PID
sleep 1
PG1_CPU0=$(ticks "$PG1_PID"); PG1_PG0=$(pg_ticks); PG1_M0=$(machine_ticks)
PG1_RESULT=$(load "$SERVE_URL" pg1)
PG1_M1=$(machine_ticks); PG1_CPU=$(( $(ticks "$PG1_PID") - PG1_CPU0 ))
stop "$PG1_PID" PG1_EXIT
sleep 0.5 # the receiver's backends exit and are reaped
PG1_PG=$(( $(pg_ticks) - PG1_PG0 ))
PG1_STORED=$(psql_value 'SELECT count(*) FROM calls')

echo "== kanca serve --database (two receivers, one database, a wrk -t$HALF_THREADS -c$HALF_CONNS each)"
serve pg2a --data-dir "$WORK/pg2a-dir" --database "$URL"
PG2A_PID=$SERVE_PID; PG2A_URL=$SERVE_URL
serve pg2b --data-dir "$WORK/pg2b-dir" --database "$URL"
PG2B_PID=$SERVE_PID; PG2B_URL=$SERVE_URL
sleep 1
PG2_CPU0=$(( $(ticks "$PG2A_PID") + $(ticks "$PG2B_PID") )); PG2_PG0=$(pg_ticks); PG2_M0=$(machine_ticks)
load "$PG2A_URL" pg2a "$HALF_THREADS" "$HALF_CONNS" 1 >/dev/null &
WRK_A=$!
load "$PG2B_URL" pg2b "$HALF_THREADS" "$HALF_CONNS" 2 >/dev/null &
WRK_B=$!
wait "$WRK_A"
wait "$WRK_B"
PG2_M1=$(machine_ticks); PG2_CPU=$(( $(ticks "$PG2A_PID") + $(ticks "$PG2B_PID") - PG2_CPU0 ))
PG2A_RESULT=$(grep '^RESULT' "$WORK/pg2a.wrk")
PG2B_RESULT=$(grep '^RESULT' "$WORK/pg2b.wrk")
stop "$PG2A_PID" PG2A_EXIT
stop "$PG2B_PID" PG2B_EXIT
sleep 0.5
PG2_PG=$(( $(pg_ticks) - PG2_PG0 ))
PG_STORED=$(psql_value 'SELECT count(*) FROM calls')
PG_EVENTS=$(psql_value 'SELECT count(*) FROM events')
PG_SIZE=$(psql_value "SELECT pg_size_pretty(pg_database_size('postgres'))")

echo "== kanca serve (SQLite)"
serve sqlite --data-dir "$WORK/sqlite"
SQLITE_PID=$SERVE_PID
sleep 1
SQLITE_CPU0=$(ticks "$SQLITE_PID"); SQLITE_M0=$(machine_ticks)
SQLITE_RESULT=$(load "$SERVE_URL" sqlite)
SQLITE_M1=$(machine_ticks); SQLITE_CPU=$(( $(ticks "$SQLITE_PID") - SQLITE_CPU0 ))
stop "$SQLITE_PID" SQLITE_EXIT
# `kanca history` lists at most 100,000 calls; count with SQLite itself (after the CLI has made
# the history catch up with the journal, as any reader does).
"$KANCA" history --json --limit 1 --data-dir "$WORK/sqlite" >/dev/null
SQLITE_STORED=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM calls").fetchone()[0])' "$WORK/sqlite/kanca.db")

echo "== ceiling (axum + serde_json only)"
"$CEILING" --listen 127.0.0.1:0 >"$WORK/ceiling.out" 2>"$WORK/ceiling.err" &
CEILING_PID=$!
PIDS+=("$CEILING_PID")
CEILING_URL=$(wait_url "$WORK/ceiling.out" "$CEILING_PID")
CEILING_RESULT=$(load "$CEILING_URL" ceiling)
stop "$CEILING_PID" CEILING_EXIT

# events/s of a RESULT line (2xx answers per second)
rate() {
  awk -v r="$(field requests "$1")" -v x="$(field non2xx "$1")" -v d="$(field duration_us "$1")" \
    'BEGIN { printf "%.3f", (r - x) / (d / 1e6) }'
}
acked() { echo $(( $(field requests "$1") - $(field non2xx "$1") )); }

report() { # NAME RESULT
  local req non2xx err dur p50 p99
  req=$(field requests "$2"); non2xx=$(field non2xx "$2"); err=$(field socket_errors "$2")
  dur=$(field duration_us "$2"); p50=$(field p50_us "$2"); p99=$(field p99_us "$2")
  awk -v n="$1" -v r="$req" -v x="$non2xx" -v e="$err" -v d="$dur" -v a="$p50" -v b="$p99" 'BEGIN {
    printf "%-10s %10.0f events/s  p50 %7.2f ms  p99 %7.2f ms  (%d requests, %d non-2xx, %d socket errors)\n",
      n, (r - x) / (d / 1e6), a / 1000, b / 1000, r, x, e }'
}
PG1_RATE=$(rate "$PG1_RESULT")
PG2_RATE=$(awk -v a="$(rate "$PG2A_RESULT")" -v b="$(rate "$PG2B_RESULT")" 'BEGIN { printf "%.3f", a + b }')
SQLITE_RATE=$(rate "$SQLITE_RESULT")
CEILING_RATE=$(rate "$CEILING_RESULT")
ratio() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "ratio      %s = %.3f\n", n, a / b }'; }

echo
echo "== results: wrk -t$THREADS -c$CONNS -d$DURATION, distinct call_init events, acknowledged after a durable commit"
report pg1 "$PG1_RESULT"
report pg2:a "$PG2A_RESULT"
report pg2:b "$PG2B_RESULT"
awk -v r="$PG2_RATE" 'BEGIN { printf "%-10s %10.0f events/s  (two receivers on one database, -t%s -c%s each)\n", "pg2 sum", r, "'"$HALF_THREADS"'", "'"$HALF_CONNS"'" }'
report sqlite "$SQLITE_RESULT"
report ceiling "$CEILING_RESULT"
ratio "pg1 / sqlite " "$PG1_RATE" "$SQLITE_RATE"
ratio "pg2 / sqlite " "$PG2_RATE" "$SQLITE_RATE"
ratio "pg2 / pg1    " "$PG2_RATE" "$PG1_RATE"
ratio "pg1 / ceiling" "$PG1_RATE" "$CEILING_RATE"
ratio "sqlite / ceiling" "$SQLITE_RATE" "$CEILING_RATE"
PG_ACKED=$(( $(acked "$PG1_RESULT") + $(acked "$PG2A_RESULT") + $(acked "$PG2B_RESULT") ))
echo "stored     PostgreSQL: $PG1_STORED calls after pg1 ($(acked "$PG1_RESULT") acknowledged with 2xx)," \
  "$PG_STORED after pg2 ($PG_ACKED acknowledged in all)," \
  "$PG_EVENTS events, database $PG_SIZE"
[ "$PG_STORED" -ge "$PG_ACKED" ] || echo "MISSING    PostgreSQL holds $(( PG_ACKED - PG_STORED )) calls fewer than were acknowledged"
echo "stored     SQLite: $SQLITE_STORED calls ($(acked "$SQLITE_RESULT") acknowledged with 2xx), data dir $(du -sh "$WORK/sqlite" | cut -f1)"
# per_event TICKS RESULT...: CPU milliseconds per acknowledged event
per_event() {
  local t=$1 n=0 r; shift
  for r in "$@"; do n=$(( n + $(acked "$r") )); done
  awk -v t="$t" -v n="$n" -v hz="$HZ" 'BEGIN { printf "%.2f", n ? 1000 * t / hz / n : 0 }'
}
echo "cpu        ms per acknowledged event: pg1 kanca $(per_event "$PG1_CPU" "$PG1_RESULT") + postgres $(per_event "$PG1_PG" "$PG1_RESULT");" \
  "pg2 kanca $(per_event "$PG2_CPU" "$PG2A_RESULT" "$PG2B_RESULT") + postgres $(per_event "$PG2_PG" "$PG2A_RESULT" "$PG2B_RESULT");" \
  "sqlite kanca $(per_event "$SQLITE_CPU" "$SQLITE_RESULT")"
echo "cpu        machine busy under load (all $(nproc) CPUs, wrk and anything else included):" \
  "pg1 $(busy_share "$PG1_M0" "$PG1_M1"), pg2 $(busy_share "$PG2_M0" "$PG2_M1"), sqlite $(busy_share "$SQLITE_M0" "$SQLITE_M1")"
echo "stop       exit codes after SIGTERM: pg1 $PG1_EXIT, pg2:a $PG2A_EXIT, pg2:b $PG2B_EXIT, sqlite $SQLITE_EXIT"
ERRORS=$(cat "$WORK"/pg1.err "$WORK"/pg2a.err "$WORK"/pg2b.err | grep -c -E 'ERROR|WARN' || true)
[ "$ERRORS" = 0 ] || { echo "log        $ERRORS ERROR/WARN lines from the PostgreSQL receivers, the first ones:"; \
  cat "$WORK"/pg1.err "$WORK"/pg2a.err "$WORK"/pg2b.err | grep -E 'ERROR|WARN' | head -n5; }

echo
echo "== search: pg_search --calls $CALLS (database \"search\" on the same server)"
psql_value 'CREATE DATABASE search' >/dev/null
"$PG_SEARCH" --url "host=$WORK user=kanca dbname=search" --calls "$CALLS"
