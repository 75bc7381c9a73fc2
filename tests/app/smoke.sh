#!/usr/bin/env bash
# App smoke test: the real desktop app under Xvfb opens its window, loads the UI, serves its
# device server, and quits cleanly on SIGTERM. Screenshot: .artifacts/app/smoke.png.
# Usage: tests/app/smoke.sh [path/to/parley [screenshot.png]]   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${1:-${CARGO_TARGET_DIR:-target}/debug/parley}"
out=.artifacts/app
shot="${2:-$out/smoke.png}"
mkdir -p "$out" "$(dirname "$shot")"
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$@"
fi

fail() { echo "app smoke: FAIL: $*" >&2; echo "--- app log" >&2; cat "$work/log" >&2; exit 1; }
wait_for() {  # wait_for <seconds> <command...>: polls a condition until it holds
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache" \
  PARLEY_PORT=0 PARLEY_SINGLE_INSTANCE=0 PARLEY_MDNS_LOOPBACK=1 NO_COLOR=1 RUST_LOG=info \
  "$bin" > "$work/log" 2>&1 &
pid=$!

window_shown() { xwininfo -root -tree 2>/dev/null | grep -q '"Parley"'; }
page_loaded() { grep -q "webview features" "$work/log"; }
wait_for 60 window_shown || fail "no Parley window within 60 s"
# The feature report comes from an init script, before the UI's own code runs; the UI has
# painted once the screen shows more than a blank page's few colours.
ui_painted() {
  import -window root "$work/screen.png" 2>/dev/null &&
    [ "$(convert "$work/screen.png" -format %k info:)" -gt 100 ]
}
wait_for 60 page_loaded || fail "the UI never loaded (no feature report from the page)"
wait_for 60 ui_painted || fail "the window stayed blank (the UI never painted)"

port=$(sed -n 's/.*device server listening addr=.*:\([0-9]*\)$/\1/p' "$work/log" | head -1)
[ -n "$port" ] || fail "the device server did not start"
device=$(curl -sf "http://127.0.0.1:$port/device") || fail "GET /device on port $port failed"
name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["displayName"])' \
  "$work/data/app.parley.desktop/settings.json")
case "$device" in *"\"name\":\"$name\""*) ;; *) fail "/device says $device, settings say $name" ;; esac

cp "$work/screen.png" "$shot"
kill -TERM "$pid"
status=0; wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
grep -q "device server stopped" "$work/log" || fail "the device server was not shut down"
echo "app smoke: ok (window, UI loaded, /device on port $port, clean exit; $shot)"
