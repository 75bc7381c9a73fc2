#!/usr/bin/env bash
# The app calling Chromium on its native GStreamer engine (tests/app/native-call.test.mjs).
# Needs what tests/app/run.sh needs (root for network namespaces, Xvfb, WebKitWebDriver,
# .tools/bin/tauri-driver, `make build`) plus Chromium and ImageMagick (`import`, `convert`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/app: needs root for network namespaces" >&2
  exit 1
fi
missing=()
for tool in ip Xvfb node import convert /usr/bin/chromium /usr/bin/WebKitWebDriver "${TAURI_DRIVER:-$repo/.tools/bin/tauri-driver}"; do
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
exec node --test --test-reporter=spec --test-concurrency=1 "$@" "$here/native-call.test.mjs"
