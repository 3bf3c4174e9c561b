#!/usr/bin/env bash
# Measures the desktop app (release build) under its own Xvfb and D-Bus session with a recording
# notification server (python3-dbusmock):
#   - start-up: launch to the listener answering /health, and to the window being mapped;
#   - pop-up latency: webhook post to the notification server receiving Notify, over N calls;
#   - memory (PSS from /proc/PID/smaps_rollup) of kanca + its WebKit processes, idle after
#     start and after EVENTS events, against a minimal Tauri 2 app (examples/minimal.rs).
# Prints figures; it is not a test. Needs the packages tests/run.sh installs.
#   bench/desktop.sh                 # CALLS=200 EVENTS=10000
#   CONTACTS=100000 bench/desktop.sh # the same with a phone book naming every caller
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CALLS=${CALLS:-200}
EVENTS=${EVENTS:-10000}
cd "$ROOT"

echo "== building (release)"
(cd ui && npm run build >/dev/null)
cargo build --release -p kanca --features desktop --bin kanca --example minimal 2>&1 | tail -1
KANCA=$ROOT/target/release/kanca
MINIMAL=$ROOT/target/release/examples/minimal

# shellcheck source=bench/session.sh
source "$ROOT/bench/session.sh"
/usr/bin/python3 -m dbusmock --template notification_daemon -l "$WORK/notify.log" >/dev/null 2>&1 & PIDS+=($!)
sleep 1.5

now_ms() { date +%s%3N; }
# WebKit's helper processes are children of the app. PSS, and of it what is anonymous (heaps,
# the JavaScript heap) and what is mapped from files (code, shared with other processes).
describe_tree() {
  for pid in $1 $(pgrep -P "$1" || true); do
    awk -v name="$(cat /proc/"$pid"/comm 2>/dev/null)" '/^(Pss|Pss_Anon|Pss_File):/ {v[$1] = $2 / 1024}
      END { printf "    %-22s %7.1f MiB  (anon %.1f, file %.1f)\n", name, v["Pss:"], v["Pss_Anon:"], v["Pss_File:"] }' \
      /proc/"$pid"/smaps_rollup 2>/dev/null || true
  done
}

PORT=$((20000 + $$ % 10000))
export KANCA_WEBHOOK_USER=bench KANCA_WEBHOOK_PASSWORD=bench KANCA_DATA_DIR=$WORK/data KANCA_LISTEN=127.0.0.1:$PORT
AUTH="Basic $(printf 'bench:bench' | base64)"

# CONTACTS=N: a phone book of N contacts first, the bench's callers among them, so every pop-up
# is titled with a name (the look-up's cost is in the latency).
if [ "${CONTACTS:-0}" -gt 0 ]; then
  echo "== phone book: $CONTACTS contacts"
  python3 - "$CONTACTS" >"$WORK/book.vcf" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kişi {i}\r\nORG:Şirket {i % 97}\r\nTEL;TYPE=CELL:+90532{i:07d}\r\nEND:VCARD\r", end="\n")
PY
  t=$(now_ms)
  "$KANCA" contacts import "$WORK/book.vcf" 2>/dev/null | head -n1
  echo "imported in $(( $(now_ms) - t )) ms"
fi

echo "== start-up"
t0=$(now_ms)
"$KANCA" >"$WORK/kanca.log" 2>&1 & KPID=$!; PIDS+=($KPID)
until curl -fs "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.01; done
t_listener=$(( $(now_ms) - t0 ))
until xdotool search --onlyvisible --name '^Kanca$' >/dev/null 2>&1; do sleep 0.02; done
t_window=$(( $(now_ms) - t0 ))
echo "listener answering: ${t_listener} ms; window mapped: ${t_window} ms"
# The first call right after start (call 0): is its pop-up as quick as the later ones?
: >"$WORK/sent"
post_call() {
  local caller body
  caller=$(printf '90532%07d' "$1")
  body=$(printf '{"event_type":"call_init","uuid":"lat-%d","caller":"%s","callee":"908508850000","direction":"IN","timestamp":%d000}' "$1" "$caller" "$(now_ms)")
  echo "$1 $(now_ms)" >>"$WORK/sent"
  curl -fs -o /dev/null -H "Authorization: $AUTH" -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$PORT/webhook"
}
post_call 0

sleep 10
IDLE=$(pss_tree $KPID)
IDLE_ANON=$(pss_tree $KPID Pss_Anon)
echo "== memory idle (10 s after start): $((IDLE / 1024)) MiB PSS"
describe_tree $KPID

echo "== pop-up latency over $CALLS calls"
for i in $(seq "$CALLS"); do
  post_call "$i"
  sleep 0.05
done
sleep 2
# dbusmock logs "EPOCH.mmm Notify ... "Gelen arama: 0 532 000 00 07"" (or, with a phone book,
# the name as the title and the number in the body): match the caller back to its post.
python3 - "$WORK/sent" "$WORK/notify.log" <<'PY'
import re, sys
sent = {int(l.split()[0]): int(l.split()[1]) for l in open(sys.argv[1])}
lat = []
first = None  # call 0, posted as soon as the listener answered
for line in open(sys.argv[2], errors="replace"):
    m = re.match(r'(\d+\.\d+) Notify .*?0 532 (\d\d\d) (\d\d) (\d\d)', line)
    if not m:
        continue
    i = int(m.group(2) + m.group(3) + m.group(4))
    if i == 0 and i in sent:
        first = float(m.group(1)) * 1000 - sent.pop(i)
    elif i in sent:
        lat.append(float(m.group(1)) * 1000 - sent.pop(i))
lat.sort()
if lat:
    pct = lambda p: lat[min(len(lat) - 1, int(round((len(lat) - 1) * p)))]
    print(f"pop-ups seen {len(lat)}: p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {lat[-1]:.1f} ms")
    if first is not None:
        print(f"the first pop-up after start: {first:.1f} ms")
else:
    print("no pop-ups seen")
PY

echo "== $EVENTS events while running"
sed "s/9053%08d/9054%08d/" "$ROOT/bench/ingest.lua" >"$WORK/ingest.lua"
KANCA_BENCH_AUTH=$AUTH timeout 120 bash -c '
  n=0
  while [ "$n" -lt '"$EVENTS"' ]; do
    out=$(wrk -t1 -c4 -d2s -s '"$WORK/ingest.lua"' http://127.0.0.1:'"$PORT"'/webhook | awk "/RESULT/ {for (i=1;i<=NF;i++) if (\$i ~ /^requests=/) {sub(\"requests=\",\"\",\$i); print \$i}}")
    n=$((n + ${out:-0}))
  done
  echo "posted $n events"'
sleep 10
AFTER=$(pss_tree $KPID)
AFTER_ANON=$(pss_tree $KPID Pss_Anon)
echo "memory after the events: $((AFTER / 1024)) MiB PSS"
describe_tree $KPID
kill $KPID; wait $KPID 2>/dev/null || true

echo "== minimal Tauri 2 app (same machine, same session)"
"$MINIMAL" >/dev/null 2>&1 & MPID=$!; PIDS+=($MPID)
until xdotool search --onlyvisible --name '^minimal$' >/dev/null 2>&1; do sleep 0.02; done
sleep 10
MIN=$(pss_tree $MPID)
MIN_ANON=$(pss_tree $MPID Pss_Anon)
echo "minimal idle: $((MIN / 1024)) MiB PSS"
describe_tree $MPID
awk -v k="$IDLE" -v a="$AFTER" -v m="$MIN" 'BEGIN { printf "kanca idle / minimal = %.2f; after events / minimal = %.2f\n", k / m, a / m }'
# Library pages count less while other processes map them too; the anonymous part does not.
awk -v k="$IDLE_ANON" -v a="$AFTER_ANON" -v m="$MIN_ANON" 'BEGIN { printf "anonymous only: idle / minimal = %.2f; after events / minimal = %.2f\n", k / m, a / m }'
