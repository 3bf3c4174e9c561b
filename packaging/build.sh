#!/usr/bin/env bash
# Builds Kanca's installable Linux packages (.deb and .rpm) with the Tauri CLI pinned in
# packaging/package.json, after installing what the build needs. Prints the packages' paths on
# stdout, one a line; everything else goes to stderr.
#   packaging/build.sh           # release build, packages in target/release/bundle/{deb,rpm}/
#   packaging/build.sh --debug   # reuses the debug build of tests/run.sh: target/debug/bundle/
# Windows (.msi) and macOS (.dmg) bundles need those systems: .github/workflows/release.yml.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
exec 3>&1 1>&2

profile=release
tauri_args=()
case ${1:-} in
  "") ;;
  --debug) profile=debug tauri_args+=(--debug) ;;
  *) echo "usage: packaging/build.sh [--debug]" >&2; exit 2 ;;
esac

"$ROOT/.ci/install-deps" app
export PATH=$HOME/.cargo/bin:$PATH
cd "$ROOT"
# tauri.conf.json's beforeBuildCommand builds ui/dist, which the binary embeds.
(cd ui && npm ci --no-audit --no-fund)
(cd packaging && npm ci --no-audit --no-fund)

# The CLI looks for the app and the front end from the working directory; name both.
export TAURI_APP_PATH=$ROOT/src-tauri TAURI_FRONTEND_PATH=$ROOT/ui
bundle_dir=${CARGO_TARGET_DIR:-$ROOT/target}/$profile/bundle
started=$(mktemp)
trap 'rm -f "$started"' EXIT
# Two programs: /usr/bin/kanca is the lean build without the desktop feature (the CLI and the
# receiver; with no subcommand it starts the app beside it), so that `kanca history` does not
# load WebKit's and GTK's 160 libraries first; /usr/bin/kanca-desktop is the app the menu starts.
target_dir=${CARGO_TARGET_DIR:-$ROOT/target}
cargo_profile=()
[[ $profile == release ]] && cargo_profile=(--release)
cargo build --locked "${cargo_profile[@]}" -p kanca --bin kanca
cli=$target_dir/$profile/kanca-cli
cp "$target_dir/$profile/kanca" "$cli"
linux_config=$(printf '{"mainBinaryName":"kanca-desktop","bundle":{"linux":{"deb":{"files":{"/usr/bin/kanca":"%s"}},"rpm":{"files":{"/usr/bin/kanca":"%s"}}}}}' "$cli" "$cli")

# Same features as tests/run.sh's `cargo build -p kanca --features desktop`, so a debug package
# reuses that build. AppImage is left out: its tools are downloaded at build time.
packaging/node_modules/.bin/tauri build --ci "${tauri_args[@]}" --features desktop --bundles deb,rpm \
  --config "$linux_config" -- --locked

# The CLI renames the app it bundled to kanca-desktop; put the same build back at kanca, where
# the tests and `cargo run` expect it: otherwise target/$profile/kanca is the lean build from the
# first step, which cargo does not relink while the desktop build is up to date.
ln -f "$target_dir/$profile/kanca-desktop" "$target_dir/$profile/kanca"

# Only this run's packages, not older versions' left in the same directory.
packages=$(find "$bundle_dir/deb" "$bundle_dir/rpm" -maxdepth 1 \( -name '*.deb' -o -name '*.rpm' \) \
  -newer "$started" | sort)
[[ -n $packages ]] || { echo "build.sh: no package was written to $bundle_dir" >&2; exit 1; }
echo "$packages" >&3
