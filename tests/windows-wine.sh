#!/usr/bin/env bash
# Runs the black-box tests of the headless receiver (tests/blackbox) against its Windows build,
# `kanca.exe`, under Wine: `kanca.exe serve` receives webhooks over HTTP, survives a kill, and
# `kanca.exe history --json` / `show` return what it stored. Tests that cannot apply under Wine
# (SIGTERM, the shell-script stand-in for cloudflared) are reported as ignored, with the reason.
#
# kanca.exe is built without the desktop feature, with Debian's Rust and MinGW as
# tests/windows-check.sh does, into a cache outside the checkout (KANCA_WINE_CACHE, default
# ~/.cache/kanca/windows-wine) that also holds the Wine prefix: later runs on the same machine,
# fresh clones included, only redo what changed. Nothing is downloaded but Debian packages:
# Wine's Mono and Gecko installers are turned off, and no display is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
lap=$started
timing() {
  local now
  now=$(date +%s)
  echo "windows-wine: $1 ($((now - lap)) s)" >&2
  lap=$now
}

.ci/apt-ensure windows-wine rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine64 nginx-light
timing "packages"

cache=${KANCA_WINE_CACHE:-$HOME/.cache/kanca/windows-wine}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# One run per cache at a time: the end of a run stops every Windows process of its prefix.
exec 9>"$cache/lock"
flock 9

# The headless receiver and CLI only: no desktop feature, so no Tauri and no UI build; no debug
# info either, which nobody reads here and which makes linking the .exe slow. Debian's cargo and
# rustc by full path, with rustup's out of PATH: the two must not mix.
env -u RUSTUP_TOOLCHAIN -u CARGO_BUILD_TARGET PATH=/usr/bin:/bin RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_DIR="$cache/target" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" CARGO_PROFILE_DEV_DEBUG=0 \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
  /usr/bin/cargo build --locked -Zbuild-std=std,panic_abort --target x86_64-pc-windows-gnu -p kanca --bin kanca
exe=$cache/target/x86_64-pc-windows-gnu/debug/kanca.exe
timing "built $exe"

# Wine, headless and offline: no display (a console program needs none), and mscoree / mshtml
# disabled so that wineboot never offers to download Mono or Gecko.
wine=/usr/lib/wine/wine64
export WINEPREFIX=$cache/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
if [[ ! -f $WINEPREFIX/kanca-prefix-ready ]]; then
  rm -rf "$WINEPREFIX"
  "$wine" wineboot --init >"$cache/wineboot.log" 2>&1 || { cat "$cache/wineboot.log" >&2; exit 1; }
  /usr/lib/wine/wineserver -w
  touch "$WINEPREFIX/kanca-prefix-ready"
  timing "made the Wine prefix $WINEPREFIX"
fi
# Rust's std imports ProcessPrng from bcryptprimitives.dll, which Wine 8 lacks: a stand-in
# built from tests/windows/processprng.c (rebuilt when the source changes).
dll=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
if [[ ! -f $dll || tests/windows/processprng.c -nt $dll ]]; then
  x86_64-w64-mingw32-gcc -shared -O2 -s -o "$cache/bcryptprimitives.dll" tests/windows/processprng.c -lbcrypt
  cp "$cache/bcryptprimitives.dll" "$dll"
fi

# One wineserver for the whole run, so each `kanca.exe history` does not boot Wine's services
# anew; it and every Windows process of this prefix end with the script.
/usr/lib/wine/wineserver -p
trap '/usr/lib/wine/wineserver -k 2>/dev/null || true' EXIT
"$wine" "$exe" --version
timing "Wine is ready"

# The test runner is a Linux program: rustup's cargo, with the workspace's features as in
# tests/run.sh, so it reuses what that build compiled.
KANCA_WINE=$wine KANCA_BIN=$exe cargo test --locked --workspace --features kanca/desktop --test blackbox-wine
timing "black-box tests passed under Wine"
echo "windows-wine: done in $(( $(date +%s) - started )) s" >&2
