#!/usr/bin/env bash
# The app suite: the real desktop app (debug build) under Xvfb, driven by tauri-driver +
# WebKitWebDriver on a LAN of network namespaces shared with a parley-node. Needs root (network
# namespaces), Xvfb, WebKitWebDriver (webkit2gtk-driver), .tools/bin/tauri-driver
# (scripts/install-deps.sh test), and `make build`. Called by `make test-app`.
# Usage: tests/app/run.sh [node --test args, e.g. --test-name-pattern=knock]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/app: needs root for network namespaces (run: sudo make test-app)" >&2
  exit 1
fi
missing=()
for tool in ip Xvfb node /usr/bin/WebKitWebDriver "${TAURI_DRIVER:-$repo/.tools/bin/tauri-driver}"; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests/app: missing ${missing[*]} (make test-deps)" >&2
  exit 1
fi
target="${CARGO_TARGET_DIR:-$repo/target}"
for bin in "${PARLEY_APP_BIN:-$target/debug/parley}" "${PARLEY_NODE_BIN:-$target/debug/parley-node}"; do
  [ -x "$bin" ] || { echo "tests/app: missing $bin (make build)" >&2; exit 1; }
done
# In-process (no --test runner child), so a SIGINT/SIGTERM reaches the suite, which then
# deletes its namespaces.
exec node --test-reporter=spec "$@" "$here/driver.test.mjs"
