#!/usr/bin/env bash
# Builds and runs Kanca on a Debian/Ubuntu machine, installing what it needs first.
#   src-tauri/run.sh serve          # the webhook receiver, headless
#   src-tauri/run.sh history        # calls received so far
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps app
export PATH=$HOME/.cargo/bin:$PATH
cargo build --locked --release -p kanca
exec target/release/kanca "$@"
