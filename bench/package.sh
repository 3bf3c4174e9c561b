#!/usr/bin/env bash
# Measures the release packages: the size of the .deb and the .rpm, the size of the installed
# binary, and the cold start of the installed app (page cache dropped when the kernel lets us)
# to its listener answering /health: `kanca serve`, and the desktop app under its own Xvfb and
# D-Bus session (also to its window being mapped). Installs the .deb and removes it at the end.
# Prints figures; it is not a test. Needs root or sudo, and the packages tests/run.sh installs.
#   bench/package.sh                 # RUNS=3
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
cd "$ROOT"

sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)

echo "== building the release packages (packaging/build.sh)"
packages=$(bash packaging/build.sh 2>"${TMPDIR:-/tmp}/kanca-package-build.log") || {
  tail -30 "${TMPDIR:-/tmp}/kanca-package-build.log" >&2
  exit 1
}
deb=$(grep '\.deb$' <<<"$packages")
rpm=$(grep '\.rpm$' <<<"$packages")
mib() { echo "scale=1; $1 / 1048576" | bc; }
printf '.deb: %s MiB  %s\n' "$(mib "$(stat -c %s "$deb")")" "$deb"
printf '.rpm: %s MiB  %s\n' "$(mib "$(stat -c %s "$rpm")")" "$rpm"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n ${BUS_PID:-} ]] && kill "$BUS_PID" 2>/dev/null || true
  if dpkg-query -W -f='${db:Status-Status}' kanca 2>/dev/null | grep -qx installed; then
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get remove -y -qq kanca >/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== installing $deb"
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
printf 'installed /usr/bin/kanca: %s MiB; package installed size: %s MiB\n' \
  "$(mib "$(stat -c %s /usr/bin/kanca)")" "$(mib "$(($(dpkg-query -W -f='${Installed-Size}' kanca) * 1024))")"

# A cold start reads the binary and its libraries from disk: drop the page cache before each run.
cold=cold
drop_caches() { sync && echo 3 | "${sudo_cmd[@]}" tee /proc/sys/vm/drop_caches >/dev/null 2>&1; }
if ! drop_caches; then
  cold=warm
  echo "(the page cache cannot be dropped here: these are warm starts)"
fi

export KANCA_WEBHOOK_USER=bench KANCA_WEBHOOK_PASSWORD=bench
now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }
# Polls /health on port $1 until it answers, giving up if process $2 has exited.
until_health() {
  until curl -fs "http://127.0.0.1:$1/health" >/dev/null 2>&1; do
    kill -0 "$2" 2>/dev/null || { echo "kanca exited before its listener answered" >&2; exit 1; }
    sleep 0.005
  done
}

echo "== $cold start of the installed kanca serve to /health ($RUNS runs)"
for i in $(seq "$RUNS"); do
  port=$((20000 + RANDOM % 20000))
  [[ $cold == cold ]] && drop_caches
  t0=$(now_ns)
  KANCA_DATA_DIR=$WORK/serve-$i KANCA_LISTEN=127.0.0.1:$port /usr/bin/kanca serve >/dev/null 2>&1 &
  pid=$!
  PIDS+=("$pid")
  until_health "$port" "$pid"
  echo "run $i: $(ms_since "$t0") ms"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done

N=$((600 + $$ % 300))
export DISPLAY=:$N NO_AT_BRIDGE=1
Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp 2>/dev/null &
PIDS+=($!)
for _ in $(seq 50); do [[ -e /tmp/.X11-unix/X$N ]] && break; sleep 0.1; done
read -r DBUS_SESSION_BUS_ADDRESS BUS_PID < <(dbus-daemon --session --fork --print-address=1 --print-pid=1 | paste -sd' ')
export DBUS_SESSION_BUS_ADDRESS
export XDG_CONFIG_HOME=$WORK/config XDG_CACHE_HOME=$WORK/cache XDG_DATA_HOME=$WORK/share

echo "== $cold start of the installed desktop app under Xvfb ($RUNS runs)"
for i in $(seq "$RUNS"); do
  port=$((20000 + RANDOM % 20000))
  [[ $cold == cold ]] && drop_caches
  t0=$(now_ns)
  KANCA_DATA_DIR=$WORK/app-$i KANCA_LISTEN=127.0.0.1:$port /usr/bin/kanca >/dev/null 2>&1 &
  pid=$!
  PIDS+=("$pid")
  until_health "$port" "$pid"
  t_health=$(ms_since "$t0")
  until xdotool search --onlyvisible --name '^Kanca$' >/dev/null 2>&1; do sleep 0.01; done
  echo "run $i: listener answering ${t_health} ms, window mapped $(ms_since "$t0") ms"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done

echo "== removing the package"
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get remove -y -qq kanca >/dev/null
echo "removed"
