#!/usr/bin/env bash
# Launches Parley (after `make build`): the desktop app when there is a display, otherwise the
# headless node, which puts this machine on the LAN for other Parley devices.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${CARGO_TARGET_DIR:-target}/debug"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  if [ -x "$bin/parley" ]; then
    echo "Starting the Parley app (close its window or press ctrl-c to quit)."
    exec "$bin/parley" "$@"
  fi
  echo "The Parley app is not built ($bin/parley missing); run: make build" >&2
  exit 1
fi

echo "No display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the Parley window cannot open."
if [ -x "$bin/parley-node" ]; then
  echo "Running the headless Parley node instead: it advertises this machine on the LAN and"
  echo "answers calls' signaling; events are printed as JSON lines. ctrl-c stops it."
  exec "$bin/parley-node" "$@"
fi
if [ -x "$bin/parley-server" ]; then
  addr="${PARLEY_ADDR:-127.0.0.1:8787}"
  echo "Running the Parley signaling server instead: open http://$addr in a browser for rooms."
  echo "ctrl-c stops it."
  exec "$bin/parley-server" --bind "$addr" --static-dir ui/dist
fi
echo "Nothing to run: $bin has neither parley-node nor parley-server; run: make build" >&2
exit 1
