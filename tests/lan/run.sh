#!/usr/bin/env bash
# LAN discovery test bed: parley-node on network-namespace LANs (needs root, iproute2,
# nftables, python3-zeroconf, avahi-daemon, avahi-utils, dbus). Called by `make test-lan`.
# Extra args go to unittest, e.g.: tests/lan/run.sh -v ThreeHosts
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/lan: needs root for network namespaces (run: sudo make test-lan)" >&2
  exit 1
fi
for tool in ip nft /usr/bin/python3 avahi-daemon avahi-publish avahi-browse dbus-daemon; do
  command -v "$tool" >/dev/null || { echo "tests/lan: missing $tool (make test-deps)" >&2; exit 1; }
done
export PARLEY_NODE="${PARLEY_NODE:-${CARGO_TARGET_DIR:-$repo/target}/debug/parley-node}"
if [ ! -x "$PARLEY_NODE" ]; then
  (cd "$repo" && cargo build -q -p parley-node)
fi
exec /usr/bin/python3 "$here/test_lan.py" "$@"
