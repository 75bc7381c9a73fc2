#!/usr/bin/env bash
# The app suites: the real desktop app (debug build) under Xvfb, driven by tauri-driver +
# WebKitWebDriver on a LAN of network namespaces shared with a parley-node. Needs root (network
# namespaces), Xvfb, WebKitWebDriver (webkit2gtk-driver), .tools/bin/tauri-driver
# (scripts/install-deps.sh test), and `make build`.
#   run.sh           driver.test.mjs; `make test-app`
#   run.sh --native  native-call.test.mjs, the app calling Chromium on its native GStreamer
#                    engine; also needs Chromium and ImageMagick; `make test-app-native`
# Usage: tests/app/run.sh [--native] [node --test args, e.g. --test-name-pattern=knock]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
suite=driver make_target=test-app
tools=(ip Xvfb node /usr/bin/WebKitWebDriver "${TAURI_DRIVER:-$repo/.tools/bin/tauri-driver}")
if [ "${1:-}" = --native ]; then
  shift
  suite=native-call make_target=test-app-native
  tools+=(import convert /usr/bin/chromium)
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/app: needs root for network namespaces (run: sudo make $make_target)" >&2
  exit 1
fi
missing=()
for tool in "${tools[@]}"; do
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
# In-process (no --test runner child), so a SIGINT/SIGTERM reaches the suite, whose lab then
# deletes its namespaces.
exec node --test-reporter=spec "$@" "$here/$suite.test.mjs"
