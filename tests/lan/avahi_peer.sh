#!/usr/bin/env bash
# Avahi (the Linux system mDNS daemon) as an independent peer, inside a test namespace.
# Usage (via `ip netns exec NS`): avahi_peer.sh NAME ID IP
#
# `ip netns exec` gives this script its own mount namespace, so the tmpfs mounts below hide
# the host's /run/dbus and /run/avahi-daemon: the private system bus and avahi-daemon of
# this namespace never meet the host's or another test's.
# It serves /healthz over HTTP on IP, publishes that server as `_parley._tcp` with Parley's
# TXT keys (avahi-publish), and prints what `avahi-browse -rpk _parley._tcp` resolves.
# Lines on stdout: "ready", then avahi-browse's parsable lines ("=;eth0;IPv4;...").
set -euo pipefail
name="$1" id="$2" ip="$3"
work="$(mktemp -d)"
pids=()
cleanup() {
  # Publisher and daemon first (they send the goodbye packets), the HTTP server after them,
  # so peers see a goodbye rather than a failed health check.
  [ -n "${publish_pid:-}" ] && kill "$publish_pid" 2>/dev/null
  [ -n "${daemon_pid:-}" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' TERM INT

mount -t tmpfs tmpfs /run/dbus 2>/dev/null || { mkdir -p /run/dbus && mount -t tmpfs tmpfs /run/dbus; }
mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon

dbus-daemon --system --nofork --nopidfile >"$work/dbus.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.05; done

cat >"$work/avahi.conf" <<EOF
[server]
use-ipv4=yes
use-ipv6=yes
allow-interfaces=eth0
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
EOF
avahi-daemon --no-drop-root --no-chroot --no-rlimits --no-proc-title -f "$work/avahi.conf" \
  >"$work/avahi.log" 2>&1 &
daemon_pid=$!
pids+=($!)
for _ in $(seq 100); do avahi-daemon -c 2>/dev/null && break; sleep 0.05; done

mkdir -p "$work/www" && printf ok >"$work/www/healthz"
: >"$work/http.log"  # exists before the server starts, so the port loop below can read it
/usr/bin/python3 -u -m http.server 0 --bind "$ip" --directory "$work/www" >"$work/http.log" 2>&1 &
pids+=($!)
port=""
for _ in $(seq 100); do
  port="$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/http.log" | head -1 || true)"
  [ -n "$port" ] && break; sleep 0.05
done

avahi-publish -s "$name" _parley._tcp "$port" "id=$id" "name=$name" "v=1" "app=avahi" "os=linux" \
  >"$work/publish.log" 2>&1 &
publish_pid=$!
pids+=($!)
echo "ready $port"
avahi-browse -rpk _parley._tcp &
pids+=($!)
wait "${pids[-1]}"
