#!/usr/bin/env bash
# Measures the desktop app: binary size, .deb size, start to page-loaded time, idle RSS of the
# app plus its WebKit processes. Needs a release bundle (`make bundle`) and Xvfb.
# Usage: scripts/bench-app.sh [path/to/parley]   (run under: xvfb-run -a scripts/bench-app.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
bin="${1:-$target/release/parley}"
runs="${RUNS:-5}"
[ -n "${DISPLAY:-}" ] || { echo "needs a display: xvfb-run -a $0" >&2; exit 1; }

echo "binary: $(stat -c %s "$bin") bytes ($bin)"
for deb in "$target"/release/bundle/deb/*.deb; do
  [ -e "$deb" ] && echo "deb: $(stat -c %s "$deb") bytes ($deb)"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
descendants() {
  local p
  for p in $(pgrep -P "$1" || true); do echo "$p"; descendants "$p"; done
}
# Sum of a field (VmRSS from status, or Pss from smaps_rollup) over a process and its children.
memory_kib() {
  local total=0 p value
  for p in "$1" $(descendants "$1"); do
    value=$(awk -v key="$3" '$1 == key {print $2}' "/proc/$p/$2" 2>/dev/null || true)
    total=$(( total + ${value:-0} ))
  done
  echo "$total"
}
# The time (ns) at which the app's log first shows $1, polled for up to 10 s; empty if never.
logged_at() {
  for _ in $(seq 1 400); do
    grep -q "$1" "$work/log" && { date +%s%N; return; }
    sleep 0.025
  done
}
for i in $(seq 1 "$runs"); do
  rm -rf "$work/home"; mkdir -p "$work/home"
  start=$(date +%s%N)
  XDG_DATA_HOME="$work/home/data" XDG_CONFIG_HOME="$work/home/config" XDG_CACHE_HOME="$work/home/cache" \
    PARLEY_PORT=0 PARLEY_SINGLE_INSTANCE=0 NO_COLOR=1 RUST_LOG=info \
    "$bin" > "$work/log" 2>&1 &
  pid=$!
  # The page's probe script reports to the backend once the UI document runs, then again on
  # the page's first contentful paint (Paint Timing API).
  loaded=$(logged_at "webview features"); loaded=${loaded:-$(date +%s%N)}
  painted=$(logged_at "first contentful paint")
  sleep 5  # idle: let start-up work settle before reading memory
  rss=$(memory_kib "$pid" status VmRSS:)
  pss=$(memory_kib "$pid" smaps_rollup Pss:)
  procs=$(( 1 + $(descendants "$pid" | wc -l) ))
  paint_ms="none reported"
  [ -n "$painted" ] && paint_ms="$(( (painted - start) / 1000000 )) ms"
  echo "run $i: start to page loaded $(( (loaded - start) / 1000000 )) ms, to first paint $paint_ms;" \
    "idle memory of $procs processes: RSS sum ${rss} KiB, PSS sum ${pss} KiB"
  kill -TERM "$pid"; wait "$pid" || true
done
