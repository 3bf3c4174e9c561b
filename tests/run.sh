#!/usr/bin/env bash
# Runs every Kanca test on a Debian/Ubuntu machine, installing what the tests need first:
# UI unit tests, engine unit and integration tests, black-box tests of the built binary and of
# its installed package, the desktop end-to-end tests, a check that the app compiles for
# Windows, and the black-box tests against the Windows receiver under Wine.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps test
export PATH=$HOME/.cargo/bin:$PATH

# The web front end: unit tests with a mocked IPC, then the production build the app embeds.
(cd ui && npm ci --no-audit --no-fund && npm test && npm run build)

# The app, built (debug, with the desktop feature and ui/dist in it) and bundled as the .deb in
# one step: the black-box and end-to-end tests run target/debug/kanca, the package test installs
# the .deb. One build, and the same features as the test run below, so nothing is rebuilt.
deb=$(bash packaging/build.sh --debug | grep '\.deb$')
# The desktop end-to-end test starts its own Xvfb, D-Bus session, notification server and
# tauri-driver. Those tests and the package test (which installs KANCA_PACKAGE_DEB) are marked
# #[ignore] so that a plain `cargo test` reports them as ignored, not passed: run them too.
KANCA_PACKAGE_DEB=$deb cargo test --locked --workspace --features kanca/desktop --no-fail-fast -- --include-ignored

# The whole app must keep compiling for Windows (most users' desks): a Linux-only API fails here.
# Its build cache lives outside the checkout, so later runs on this machine only redo what changed.
bash tests/windows-check.sh
# The headless receiver built for Windows passes the black-box tests under Wine (its own cache).
bash tests/windows-wine.sh
