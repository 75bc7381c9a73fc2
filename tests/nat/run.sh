#!/usr/bin/env bash
# NAT lab: two homes behind nftables NATs call each other through parley-server and coturn in
# network namespaces, with headless Chromium (needs root, iproute2, nftables, coturn, openssl,
# /usr/bin/chromium, ui/node_modules/playwright-core). Called by `make test-nat`.
# Usage: tests/nat/run.sh [node --test args, e.g. --test-name-pattern="^5"]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/nat: needs root for network namespaces (run: sudo make test-nat)" >&2
  exit 1
fi
for tool in ip nft turnserver openssl ss node "${PARLEY_CHROMIUM:-/usr/bin/chromium}"; do
  command -v "$tool" >/dev/null || { echo "tests/nat: missing $tool (make test-deps)" >&2; exit 1; }
done
[ -d "$repo/ui/node_modules/playwright-core" ] || { echo "tests/nat: missing ui/node_modules (make ui-deps)" >&2; exit 1; }
[ -f "${PARLEY_UI_DIST:-$repo/ui/dist}/index.html" ] || { echo "tests/nat: missing ui/dist (make ui)" >&2; exit 1; }
export PARLEY_SERVER_BIN="${PARLEY_SERVER_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/parley-server}"
if [ ! -x "$PARLEY_SERVER_BIN" ]; then
  (cd "$repo" && cargo build -q -p parley-server)
fi
exec node --test --test-reporter=spec --test-concurrency=1 "$@" "$here/nat.test.mjs"
