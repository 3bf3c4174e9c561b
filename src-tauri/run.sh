#!/usr/bin/env bash
# Builds and runs Kanca on a Debian/Ubuntu machine, installing what it needs first.
#   src-tauri/run.sh                # the desktop app (tray, pop-ups, history window)
#   src-tauri/run.sh serve          # the webhook receiver alone, headless
#   src-tauri/run.sh history        # calls received so far
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps app
export PATH=$HOME/.cargo/bin:$PATH
# The front end and the app are rebuilt only when something changed: a second run starts at once.
.ci/ui-build
cargo build --locked --release -p kanca --features desktop
exec target/release/kanca "$@"
