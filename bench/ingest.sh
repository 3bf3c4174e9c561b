#!/usr/bin/env bash
# Webhook ingest throughput of `kanca serve` (auth, parse, durable SQLite commit) against the
# ceiling example (axum parsing the JSON body and nothing else) and the naive example (one SQLite
# transaction per request), with wrk; how long after its 2xx an event shows in the history while
# kanca is under that load; kanca's memory before and after the load and the number of calls it
# stored. Prints figures; not a test.
#
#   bench/ingest.sh                 # defaults: DURATION=10s THREADS=2 CONNS=32
#   DURATION=30s CONNS=64 bench/ingest.sh
#   BASELINE=/path/to/other/kanca bench/ingest.sh   # also load another build of kanca, same run
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
USER_NAME=bench
PASSWORD=bench-password

command -v wrk >/dev/null || { echo "wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }

echo "== building (release)"
# One invocation, so both share one feature resolution and later runs rebuild nothing.
cargo build --release -p kanca -p kanca-core --bin kanca --example ceiling --example naive --example visibility
KANCA=$TARGET/release/kanca
CEILING=$TARGET/release/examples/ceiling
NAIVE=$TARGET/release/examples/naive
VISIBILITY=$TARGET/release/examples/visibility

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kanca-bench.XXXXXX")
KANCA_PID=
CEILING_PID=
NAIVE_PID=
PROBE_PID=
cleanup() {
  for pid in $PROBE_PID $KANCA_PID $CEILING_PID $NAIVE_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_url OUTFILE PID: prints the URL from the "Webhook URL: ..." line.
wait_url() {
  local out=$1 pid=$2 url
  for _ in $(seq 300); do
    url=$(sed -n 's/^Webhook URL: //p' "$out" | head -n1)
    if [ -n "$url" ]; then echo "$url"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "server $pid exited:" >&2; cat "$WORK"/*.err >&2 || true; return 1; }
    sleep 0.1
  done
  echo "no 'Webhook URL:' line after 30 s" >&2
  return 1
}

# mem PID: "VmRSS X MiB, Pss Y MiB"
mem() {
  local rss pss
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status")
  pss=$(awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup")
  awk -v r="$rss" -v p="$pss" 'BEGIN { printf "VmRSS %.1f MiB, Pss %.1f MiB", r/1024, p/1024 }'
}

# load URL NAME: runs wrk, keeps its output in $WORK/NAME.wrk, prints the RESULT line.
load() {
  KANCA_BENCH_AUTH="Basic $(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)" \
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$ROOT/bench/ingest.lua" "$1" >"$WORK/$2.wrk"
  grep '^RESULT' "$WORK/$2.wrk"
}

field() { sed -n "s/.*[ ]$1=\([0-9]*\).*/\1/p" <<<"$2"; }

# cpu PID: CPU time in clock ticks per thread name ("kanca-projector 612", "tokio-rt-worker 498").
cpu() {
  for t in /proc/"$1"/task/*; do
    echo "$(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat")"
  done | awk '{a[$1] += $2} END {for (k in a) print k, a[k]}' | sort
}

echo "== kanca serve"
mkdir -p "$WORK/data"
KANCA_WEBHOOK_USER=$USER_NAME KANCA_WEBHOOK_PASSWORD=$PASSWORD \
  "$KANCA" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" >"$WORK/kanca.out" 2>"$WORK/kanca.err" &
KANCA_PID=$!
KANCA_URL=$(wait_url "$WORK/kanca.out" "$KANCA_PID")
sleep 1
MEM_IDLE=$(mem "$KANCA_PID")
# The visibility probe runs alongside the load: lag matters most when the projector is busy.
"$VISIBILITY" --url "$KANCA_URL" --auth "Basic $(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)" \
  --db "$WORK/data/kanca.db" --count "${PROBES:-100}" --interval-ms 50 >"$WORK/probe.out" 2>&1 &
PROBE_PID=$!
cpu "$KANCA_PID" >"$WORK/cpu.before"
KANCA_RESULT=$(load "$KANCA_URL" kanca)
cpu "$KANCA_PID" >"$WORK/cpu.after"
# Which thread the load kept busy, per acknowledged event: the journal (inbox commits), the
# projector (history and indexes) and the listener's workers share the cores with wrk.
CPU_PER_EVENT=$(join "$WORK/cpu.before" "$WORK/cpu.after" | awk -v n="$(( $(field requests "$KANCA_RESULT") - $(field non2xx "$KANCA_RESULT") ))" \
  -v hz="$(getconf CLK_TCK)" '$3 > $2 { printf "%s%s %.1f µs", sep, $1, ($3 - $2) / hz / n * 1e6; sep = ", " }')
PROBE_EXIT=0
wait "$PROBE_PID" || PROBE_EXIT=$?
PROBE_PID=
VISIBLE=$(grep '^VISIBLE' "$WORK/probe.out" || { echo "probe failed ($PROBE_EXIT):"; cat "$WORK/probe.out"; })
MEM_LOADED=$(mem "$KANCA_PID")
# `kanca history` lists at most 100,000 calls; count with SQLite itself (after the CLI has made
# the history catch up with the journal, as any reader does).
"$KANCA" history --json --limit 1 --data-dir "$WORK/data" >/dev/null
STORED=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM calls").fetchone()[0])' "$WORK/data/kanca.db")
DB_SIZE=$(du -sh "$WORK/data" | cut -f1)
kill -TERM "$KANCA_PID"
KANCA_EXIT=0
wait "$KANCA_PID" || KANCA_EXIT=$?
KANCA_PID=

BASELINE_RESULT=
if [ -n "${BASELINE:-}" ]; then
  echo "== baseline: $BASELINE serve"
  mkdir -p "$WORK/base"
  KANCA_WEBHOOK_USER=$USER_NAME KANCA_WEBHOOK_PASSWORD=$PASSWORD \
    "$BASELINE" serve --listen 127.0.0.1:0 --data-dir "$WORK/base" >"$WORK/base.out" 2>"$WORK/base.err" &
  KANCA_PID=$!
  BASE_URL=$(wait_url "$WORK/base.out" "$KANCA_PID")
  BASELINE_RESULT=$(load "$BASE_URL" baseline)
  kill -TERM "$KANCA_PID"; wait "$KANCA_PID" 2>/dev/null || true
  KANCA_PID=
fi

echo "== ceiling (axum + serde_json only)"
"$CEILING" --listen 127.0.0.1:0 >"$WORK/ceiling.out" 2>"$WORK/ceiling.err" &
CEILING_PID=$!
CEILING_URL=$(wait_url "$WORK/ceiling.out" "$CEILING_PID")
CEILING_RESULT=$(load "$CEILING_URL" ceiling)
kill "$CEILING_PID"; wait "$CEILING_PID" 2>/dev/null || true
CEILING_PID=

echo "== naive (one SQLite transaction per request, WAL + synchronous=FULL)"
"$NAIVE" --listen 127.0.0.1:0 --db "$WORK/naive.db" >"$WORK/naive.out" 2>"$WORK/naive.err" &
NAIVE_PID=$!
NAIVE_URL=$(wait_url "$WORK/naive.out" "$NAIVE_PID")
NAIVE_RESULT=$(load "$NAIVE_URL" naive)
kill "$NAIVE_PID"; wait "$NAIVE_PID" 2>/dev/null || true
NAIVE_PID=

report() { # NAME RESULT
  local req non2xx err dur p50 p99
  req=$(field requests "$2"); non2xx=$(field non2xx "$2"); err=$(field socket_errors "$2")
  dur=$(field duration_us "$2"); p50=$(field p50_us "$2"); p99=$(field p99_us "$2")
  awk -v n="$1" -v r="$req" -v x="$non2xx" -v e="$err" -v d="$dur" -v a="$p50" -v b="$p99" 'BEGIN {
    printf "%-8s %10.0f events/s  p50 %7.2f ms  p99 %7.2f ms  (%d requests, %d non-2xx, %d socket errors)\n",
      n, (r - x) / (d / 1e6), a / 1000, b / 1000, r, x, e }'
}

echo
echo "== results: wrk -t$THREADS -c$CONNS -d$DURATION, distinct call_init events"
report kanca "$KANCA_RESULT"
report ceiling "$CEILING_RESULT"
report naive "$NAIVE_RESULT"
[ -z "$BASELINE_RESULT" ] || report baseline "$BASELINE_RESULT"
ratio() { # NAME A_RESULT B_RESULT
  awk -v n="$1" -v a="$(field requests "$2")" -v ax="$(field non2xx "$2")" -v ad="$(field duration_us "$2")" \
      -v b="$(field requests "$3")" -v bx="$(field non2xx "$3")" -v bd="$(field duration_us "$3")" \
      'BEGIN { printf "ratio    %s = %.3f\n", n, ((a - ax) / ad) / ((b - bx) / bd) }'
}
ratio "kanca / ceiling" "$KANCA_RESULT" "$CEILING_RESULT"
ratio "kanca / naive  " "$KANCA_RESULT" "$NAIVE_RESULT"
if [ -n "$BASELINE_RESULT" ]; then
  ratio "baseline / ceiling" "$BASELINE_RESULT" "$CEILING_RESULT"
  ratio "baseline / naive  " "$BASELINE_RESULT" "$NAIVE_RESULT"
fi
echo "visible  2xx to call in history, under load: $(sed 's/^VISIBLE //' <<<"$VISIBLE")"
echo "memory   kanca serve idle:       $MEM_IDLE"
echo "memory   kanca serve after load: $MEM_LOADED"
echo "cpu      per event, by thread:   $CPU_PER_EVENT"
echo "stored   $STORED calls ($(( $(field requests "$KANCA_RESULT") - $(field non2xx "$KANCA_RESULT") )) acknowledged with 2xx, plus the probes), data dir $DB_SIZE"
echo "stop     kanca serve exit code after SIGTERM: $KANCA_EXIT"
