#!/usr/bin/env bash
# Runs every Kanca test on a Debian/Ubuntu machine, installing what the tests need first:
# UI unit tests, engine unit and integration tests, black-box tests of the built binary and of
# its installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps test
export PATH=$HOME/.cargo/bin:$PATH

# The web front end: unit tests with a mocked IPC, then the production build the app embeds.
(cd ui && npm ci --no-audit --no-fund && npm test && npm run build)

# The black-box tests run the real binary, with the desktop app in it; build it first so they
# do not race to build it, and keep the feature on for the test run so it is not rebuilt
# without it.
cargo build --locked -p kanca --features desktop
# The desktop end-to-end test starts its own Xvfb, D-Bus session, notification server and
# tauri-driver; KANCA_E2E=1 turns it on.
KANCA_E2E=1 cargo test --locked --workspace --features kanca/desktop --no-fail-fast

# The installable package, bundled from the debug build above (no second, release build), is
# installed, run and removed again by the package test.
deb=$(bash packaging/build.sh --debug | grep '\.deb$')
KANCA_PACKAGE_DEB=$deb cargo test --locked -p kanca-tests --test package
