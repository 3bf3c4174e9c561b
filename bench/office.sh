#!/usr/bin/env bash
# Office mode's event stream under load: a release `kanca serve --office` on loopback, DESKS
# paired desks holding /v1/events open (tests/examples/office_load.rs), RATE webhooks a second
# for SECONDS: delivery latency p50/p99/max (webhook acknowledged → change at the desk), whether
# every desk got every event once and in order, and the receiver's memory with the desks
# connected. Runs once with one desk and once with DESKS. Prints figures; not a test.
#
#   bench/office.sh                    # DESKS=50 RATE=100 SECONDS=60
set -euo pipefail
cd "$(dirname "$0")/.."
DESKS=${DESKS:-50}
RATE=${RATE:-100}
SECONDS_=${SECONDS_:-${DURATION:-60}}
TARGET=${CARGO_TARGET_DIR:-$PWD/target}

echo "== building (release): kanca, the load client"
cargo build --release -p kanca --bin kanca
cargo build --release -p kanca-tests --example office_load
KANCA=$TARGET/release/kanca
LOAD=$TARGET/release/examples/office_load

run() {
  local desks=$1 work
  work=$(mktemp -d)
  KANCA_WEBHOOK_USER=bench KANCA_WEBHOOK_PASSWORD=bench-password KANCA_LOG=warn \
    "$KANCA" serve --listen 127.0.0.1:0 --office 127.0.0.1:0 --data-dir "$work/data" >"$work/serve.out" 2>"$work/serve.err" &
  local pid=$!
  for _ in $(seq 100); do grep -q "Office client API" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  local office webhook
  office=$(sed -n 's/^Office client API: \([^ ]*\) .*/\1/p' "$work/serve.out")
  webhook=$(sed -n 's/^Webhook URL: //p' "$work/serve.out")
  for i in $(seq "$desks"); do
    "$KANCA" clients add "desk-$i" --address "$office" --json --data-dir "$work/data" \
      | python3 -c 'import json,sys,base64; c=json.load(sys.stdin)["code"][7:]; print(json.loads(base64.urlsafe_b64decode(c+"="*(-len(c)%4)))["token"])'
  done >"$work/tokens"
  ( sleep $((SECONDS_ / 2 + 1)); echo "receiver memory with $desks desks connected: $(grep VmRSS /proc/$pid/status | awk '{print $2, $3}')" ) &
  "$LOAD" "$office" "$webhook" bench bench-password "$RATE" "$SECONDS_" <"$work/tokens"
  wait %2 2>/dev/null || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}

echo "== 1 desk"
run 1
echo "== $DESKS desks"
run "$DESKS"
