#!/usr/bin/env bash
# parley:// deep links in the real desktop app (tests/app/deep-link.test.mjs): under Xvfb, with a
# private D-Bus session bus so the single-instance check works and nothing reaches the user's
# session. Needs `make build` (target/debug/parley), WebKitWebDriver, .tools/bin/tauri-driver,
# xdg-utils, desktop-file-utils and gio (scripts/install-deps.sh test). No root needed.
# Usage: tests/app/deep-link.sh [node --test args]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${PARLEY_APP_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/parley}"
missing=()
for tool in "$bin" "${TAURI_DRIVER:-$repo/.tools/bin/tauri-driver}" /usr/bin/WebKitWebDriver xvfb-run dbus-run-session xdg-mime gio update-desktop-database node; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests/app/deep-link: missing ${missing[*]} (make build; scripts/install-deps.sh test)" >&2
  exit 1
fi
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$@"
fi
if [ -z "${PARLEY_TEST_PRIVATE_BUS:-}" ]; then
  PARLEY_TEST_PRIVATE_BUS=1 exec dbus-run-session -- "$0" "$@"
fi
exec node --test --test-reporter=spec --test-concurrency=1 "$@" "$here/deep-link.test.mjs"
