#!/usr/bin/env bash
# Runs every Kanca test on a Debian/Ubuntu machine, installing what the tests need first:
# engine unit and integration tests, shell tests, and black-box tests of the built binary.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps test
export PATH=$HOME/.cargo/bin:$PATH

# The black-box tests run the real binary; build it first so they do not race to build it.
cargo build --locked -p kanca
cargo test --locked --workspace --no-fail-fast
