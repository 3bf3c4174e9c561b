#!/usr/bin/env bash
# Start-up and query time of the `kanca` CLI as a process, with hyperfine, against the search
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

echo "== building (release)"
cargo build --release -p kanca --bin kanca
KANCA=$TARGET/release/kanca
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
  -n "kanca --version" "$KANCA --version" \
  -n "history (newest 50)" "$KANCA history --data-dir $DATA" \
  -n "history 4445566" "$KANCA history 4445566 --data-dir $DATA" \
  -n "history --kind fax 123" "$KANCA history --kind fax 123 --data-dir $DATA" \
  -n "history --json --limit 500" "$KANCA history --json --limit 500 --data-dir $DATA" \
  2>&1 | grep -E '^(Benchmark|  Time|  Range)'
