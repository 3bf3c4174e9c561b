#!/usr/bin/env bash
# Checks that the whole app (desktop feature included) compiles for Windows, so a Linux-only
# API cannot land. No rustup target can be downloaded here, so this uses Debian's Rust with the
# standard library's source (rustc-web, rust-web-src) and MinGW, building std for
# x86_64-pc-windows-gnu. It is a check of the code, not the release toolchain (the release
# workflow builds with MSVC on a Windows runner).
#
# The target directory lives outside the checkout (KANCA_WINCHECK_TARGET, default
# ~/.cache/kanca/windows-check) so that later runs on the same machine, fresh clones included,
# only recompile what changed: about 12 minutes cold on 2 cores, under a minute warm.
set -euo pipefail
cd "$(dirname "$0")/.."

.ci/apt-ensure windows-check rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64

# tauri::generate_context! embeds ui/dist: the caller builds it first (tests/run.sh does).
[[ -f ui/dist/index.html ]] || { echo "windows-check: build the UI first (cd ui && npm run build)" >&2; exit 1; }

target_dir=${KANCA_WINCHECK_TARGET:-$HOME/.cache/kanca/windows-check}
mkdir -p "$target_dir"
started=$(date +%s)
# Debian's cargo and rustc by full path, with rustup's out of PATH: the two must not mix.
env -u RUSTUP_TOOLCHAIN -u CARGO_BUILD_TARGET PATH=/usr/bin:/bin RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_DIR="$target_dir" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" \
  /usr/bin/cargo check --locked -Zbuild-std=std,panic_abort --target x86_64-pc-windows-gnu \
  -p kanca --features desktop --bins
echo "windows-check: kanca (desktop) compiles for x86_64-pc-windows-gnu ($(( $(date +%s) - started )) s)" >&2
