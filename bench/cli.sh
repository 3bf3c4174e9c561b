#!/usr/bin/env bash
# Start-up and query time of the `kanca` CLI as a process (the lean build the packages install as
# /usr/bin/kanca, against the desktop app's binary), with hyperfine, against the search
# benchmark's history of 1,000,000 calls (bench/out/search-1000000, built by
# `cargo bench -p kanca-core --bench search` when missing). Prints figures; not a test.
#
#   bench/cli.sh                       # KANCA_BENCH_CALLS=1000000 RUNS=30
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CALLS=${KANCA_BENCH_CALLS:-1000000}
RUNS=${RUNS:-30}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DATA=$ROOT/bench/out/search-$CALLS

command -v hyperfine >/dev/null || { echo "hyperfine not found (Debian: apt-get install hyperfine)" >&2; exit 1; }

echo "== building (release): the CLI as the packages ship it, and the desktop app"
# packaging/build.sh installs the lean build (no desktop feature, stripped) as /usr/bin/kanca
# and the app as /usr/bin/kanca-desktop; both are measured, the app for comparison.
cargo build --release -p kanca --bin kanca
KANCA=$TARGET/release/kanca-cli
cp "$TARGET/release/kanca" "$KANCA" && strip "$KANCA"
(cd ui && npm run build >/dev/null)
cargo build --release -p kanca --features desktop --bin kanca
DESKTOP=$TARGET/release/kanca-desktop-bench
cp "$TARGET/release/kanca" "$DESKTOP"
if [ ! -f "$DATA/kanca.db" ]; then
  echo "== building the $CALLS-call history (cargo bench, a few minutes)"
  KANCA_BENCH_CALLS=$CALLS cargo bench -p kanca-core --bench search
fi
# A first run migrates the database if this kanca is newer than the one that built it; that is
# a one-off, not what is measured.
"$KANCA" history --limit 1 --data-dir "$DATA" >/dev/null

echo
echo "== kanca as a process, $CALLS calls ($(du -sh "$DATA" | cut -f1))"
hyperfine -N --warmup 3 --runs "$RUNS" --style basic \
  -n "kanca-desktop --version (the app's binary, for comparison)" "$DESKTOP --version" \
  -n "kanca-desktop history (newest 50)" "$DESKTOP history --data-dir $DATA" \
  -n "kanca --version" "$KANCA --version" \
  -n "history (newest 50)" "$KANCA history --data-dir $DATA" \
  -n "history 4445566" "$KANCA history 4445566 --data-dir $DATA" \
  -n "history --kind fax 123" "$KANCA history --kind fax 123 --data-dir $DATA" \
  -n "history --json --limit 500" "$KANCA history --json --limit 500 --data-dir $DATA" \
  2>&1 | grep -E '^(Benchmark|  Time|  Range)'
