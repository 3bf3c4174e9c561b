#!/usr/bin/env bash
# A working day at one call a minute, compressed in time: the release desktop app under its own
# Xvfb and D-Bus session (python3-dbusmock as the notification server) takes CALLS calls, each
# rung, routed to an extension and then answered or (every fifth) missed, INTERVAL seconds
# apart. Every SAMPLE calls it prints the app's memory (PSS of kanca and its WebKit processes),
# threads, open files and D-Bus connections; flat lines are the aim. Prints figures; not a test.
#   bench/soak.sh                          # CALLS=480 (8 h at one a minute) INTERVAL=0.5
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CALLS=${CALLS:-480}
INTERVAL=${INTERVAL:-0.5}
SAMPLE=${SAMPLE:-60}
cd "$ROOT"

echo "== building (release)"
(cd ui && npm run build >/dev/null)
cargo build --release -p kanca --features desktop --bin kanca 2>&1 | tail -1
KANCA=$ROOT/target/release/kanca

# shellcheck source=bench/session.sh
source "$ROOT/bench/session.sh"
/usr/bin/python3 -m dbusmock --template notification_daemon -p '{"capabilities": "actions body body-markup persistence"}' \
  -l "$WORK/notify.log" >/dev/null 2>&1 & PIDS+=($!)
until gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus -m org.freedesktop.DBus.NameHasOwner \
  org.freedesktop.Notifications 2>/dev/null | grep -q true; do sleep 0.1; done

PORT=$((20000 + $$ % 10000))
export KANCA_WEBHOOK_USER=bench KANCA_WEBHOOK_PASSWORD=bench KANCA_DATA_DIR=$WORK/data KANCA_LISTEN=127.0.0.1:$PORT
"$KANCA" >"$WORK/kanca.log" 2>&1 & KPID=$!; PIDS+=($KPID)
until curl -fs "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.05; done
until xdotool search --onlyvisible --name '^Kanca$' >/dev/null 2>&1; do sleep 0.05; done

# Connections on the session bus whose peer is the app's process.
bus_connections() {
  local n=0 name pid
  for name in $(gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus -m org.freedesktop.DBus.ListNames \
    | grep -o "':[0-9.]*'" | tr -d "'"); do
    pid=$(gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus \
      -m org.freedesktop.DBus.GetConnectionUnixProcessID "$name" 2>/dev/null | grep -o '[0-9]\+' | tail -1)
    [[ $pid == "$1" ]] && n=$((n + 1))
  done
  echo $n
}
sample() {
  printf '%6s %9s %8s %6s %8s %8s\n' "$1" "$(( $(pss_tree "$KPID") / 1024 ))" "$(ls /proc/"$KPID"/task | wc -l)" \
    "$(ls /proc/"$KPID"/fd | wc -l)" "$(bus_connections "$KPID")" "$(grep -c ' Notify ' "$WORK/notify.log" || true)"
}
post() {
  curl -s -o /dev/null -w '%{http_code}' -u bench:bench -H 'Content-Type: application/json' \
    --data "$1" "http://127.0.0.1:$PORT/webhook" | grep -q 200 || echo "post failed: $1" >&2
}

sleep 3
echo "== $CALLS calls, one every $INTERVAL s (a working day at one a minute, compressed)"
printf '%6s %9s %8s %6s %8s %8s\n' calls "PSS MiB" threads files "D-Bus" pop-ups
sample 0
for i in $(seq "$CALLS"); do
  uuid="soak-$i"
  caller=$(printf '90532%07d' "$i")
  # Bulutfon's clock: now (a call heard of hours ago is over, and would not pop up).
  ts=$(date +%s)
  post "{\"event_type\":\"call_init\",\"uuid\":\"$uuid\",\"caller\":\"$caller\",\"callee\":\"908508850000\",\"direction\":\"IN\",\"timestamp\":${ts}000000}"
  post "{\"event_type\":\"call_init_extension\",\"uuid\":\"$uuid\",\"caller\":\"$caller\",\"callee\":\"908508850000\",\"direction\":\"IN\",\"destination\":1000,\"timestamp\":$((ts + 5))000000}"
  if (( i % 5 == 0 )); then
    post "{\"event_type\":\"missing_call\",\"uuid\":\"$uuid\",\"caller\":\"$caller\",\"callee\":\"908508850000\",\"direction\":\"IN\",\"timestamp\":$((ts + 30))000000}"
  else
    post "{\"event_type\":\"call_hangup\",\"uuid\":\"$uuid\",\"caller\":\"$caller\",\"callee\":\"908508850000\",\"direction\":\"IN\",\"timestamp\":$((ts + 40))000000,\"talk_duration\":25,\"result_disposition\":\"SUCCESS\"}"
  fi
  sleep "$INTERVAL"
  (( i % SAMPLE == 0 )) && sample "$i"
done
sleep 5
sample "rest"
