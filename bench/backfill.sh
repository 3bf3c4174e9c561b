#!/usr/bin/env bash
# A backfill of RECORDS call records (pages of PER_PAGE) from the stand-in Bulutfon API into a
# fresh data directory, with the release `kanca sync`: wall time and peak memory (GNU time),
# then a second sync with nothing new: its time and how many requests it made. Prints figures;
# not a test.
#
#   bench/backfill.sh                 # RECORDS=10000 PER_PAGE=100
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-10000}
PER_PAGE=${PER_PAGE:-100}
TARGET=${CARGO_TARGET_DIR:-$PWD/target}

[ -x /usr/bin/time ] || { echo "GNU time not found (Debian: apt-get install time)" >&2; exit 1; }
echo "== building (release): kanca, the stand-in API"
cargo build --release -p kanca --bin kanca
cargo build --release -p kanca-tests --example stand_in
KANCA=$TARGET/release/kanca
WORK=$(mktemp -d)
trap 'kill "$STAND_IN" 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$TARGET/release/examples/stand_in" "$RECORDS" "$PER_PAGE" >"$WORK/stand-in.txt" &
STAND_IN=$!
for _ in $(seq 100); do [ "$(wc -l <"$WORK/stand-in.txt")" -ge 2 ] && break; sleep 0.1; done
URL=$(sed -n 1p "$WORK/stand-in.txt")
export KANCA_BULUTFON_API_URL=$URL KANCA_BULUTFON_TOKEN=$(sed -n 2p "$WORK/stand-in.txt")
# Requests so far, by kind: pages of /cdrs, details (/cdrs/UUID), the three name lists.
stats() {
  curl -s "$URL/_stats" | python3 -c 'import json,sys; c=json.load(sys.stdin)
print("pages %d, details %d, names %d" % (c.get("/cdrs",0), sum(v for k,v in c.items() if k.startswith("/cdrs/")), sum(c.get(k,0) for k in ("/extensions","/groups","/dids"))))'
}
export KANCA_LOG=warn

echo "== first sync: $RECORDS records, pages of $PER_PAGE, into an empty history"
/usr/bin/time -f "wall %e s, peak RSS %M KiB" "$KANCA" sync --json --data-dir "$WORK/data" 2>&1
echo "requests: $(stats)"
echo "history: $("$KANCA" history --limit 100000 --json --data-dir "$WORK/data" | wc -l) calls, $(du -sh "$WORK/data" | cut -f1)"
echo
echo "== second sync, nothing new"
before=$(stats)
/usr/bin/time -f "wall %e s, peak RSS %M KiB" "$KANCA" sync --json --data-dir "$WORK/data" 2>&1
echo "requests before: $before"
echo "requests after:  $(stats)"
