#!/usr/bin/env bash
# Browser end-to-end suites: real parley-server / parley-node, Debian Chromium with fake media.
# Usage: ui/e2e/run.sh [test files...]   (default: every ui/e2e/tests/*.test.mjs)
# Needs `make build` first (ui/dist, target/debug/parley-server, target/debug/parley-node);
# honours CARGO_TARGET_DIR. E2E_CONCURRENCY sets how many test files run at once (default 2;
# tests are parallel-safe, but each file runs 2-4 Chromium instances with fake video).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

target="${CARGO_TARGET_DIR:-$root/target}"
server_bin="${PARLEY_SERVER_BIN:-$target/debug/parley-server}"
missing=()
[ -x "$server_bin" ] || missing+=("$server_bin (cargo build -p parley-server)")
[ -f "${PARLEY_UI_DIST:-ui/dist}/index.html" ] || missing+=("${PARLEY_UI_DIST:-ui/dist}/index.html (make ui)")
[ -x "${PARLEY_CHROMIUM:-/usr/bin/chromium}" ] || missing+=("/usr/bin/chromium (make test-deps)")
[ -d ui/node_modules/playwright-core ] || missing+=("ui/node_modules/playwright-core (make ui-deps)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'e2e: missing %s\n' "${missing[@]}" >&2
  exit 1
fi

if [ $# -gt 0 ]; then files=("$@"); else files=("$here"/tests/*.test.mjs); fi
exec node --test --test-reporter=spec --test-concurrency="${E2E_CONCURRENCY:-2}" "${files[@]}"
