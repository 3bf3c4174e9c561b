# Sourced by the desktop benchmarks (desktop.sh, soak.sh): a work directory, an Xvfb display and
# a private D-Bus session bus, all removed on exit, and pss_tree.
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n ${BUS_PID:-} ]] && kill "$BUS_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

N=$((200 + $$ % 300))
export DISPLAY=:$N NO_AT_BRIDGE=1
Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp 2>/dev/null & PIDS+=($!)
for _ in $(seq 50); do [[ -e /tmp/.X11-unix/X$N ]] && break; sleep 0.1; done
read -r DBUS_SESSION_BUS_ADDRESS BUS_PID < <(dbus-daemon --session --fork --print-address=1 --print-pid=1 | paste -sd' ')
export DBUS_SESSION_BUS_ADDRESS

# PSS in KiB of a process and all its descendants; a second argument picks another line of
# smaps_rollup (Pss_Anon: the anonymous part only).
pss_tree() {
  local total=0 pid field=${2:-Pss}
  for pid in $1 $(pgrep -P "$1" || true) $(for c in $(pgrep -P "$1" || true); do pgrep -P "$c" || true; done); do
    local kb
    kb=$(awk -v f="$field:" '$1 == f {print $2}' /proc/"$pid"/smaps_rollup 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}
