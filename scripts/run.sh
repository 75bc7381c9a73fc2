#!/usr/bin/env bash
# Launches Parley. Until the app shell exists this starts the public signaling server.
set -euo pipefail
cd "$(dirname "$0")/.."
addr="${PARLEY_ADDR:-127.0.0.1:8787}"
if [ -x target/debug/parley-server ]; then
  echo "Parley signaling server on http://$addr (ctrl-c stops it)"
  exec target/debug/parley-server --bind "$addr" --static-dir ui/dist
fi
echo "parley-server is not built yet" >&2
exit 1
