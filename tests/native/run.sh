#!/usr/bin/env bash
# Native engine interop: parley-native-peer (GStreamer webrtcbin) against Chromium running the
# real UI, through a real parley-server. Needs `make build` (ui/dist, parley-server,
# parley-native-peer) and `make test-deps`. Honours CARGO_TARGET_DIR like ui/e2e/run.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
for bin in "${PARLEY_SERVER_BIN:-$target/debug/parley-server}" "${PARLEY_NATIVE_PEER_BIN:-$target/debug/parley-native-peer}"; do
  [ -x "$bin" ] || { echo "native: missing $bin (make build)" >&2; exit 1; }
done
if [ $# -gt 0 ]; then files=("$@"); else files=("$here"/*.test.mjs); fi
exec node --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
