#!/usr/bin/env bash
# Runs tests/nat/stun-offline-bench.mjs in a fresh network namespace with no way out: its default
# route and DNS server are a "router" namespace that answers ARP and silently drops everything
# else (a LAN whose router has no uplink). Needs root (nftables) and `make build`.
# Usage: sudo $0 [--runs N]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ns="pstun-$$-$RANDOM"
cleanup() {
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip netns del "$ns-r" 2>/dev/null || true
  rm -rf "/etc/netns/$ns"
}
trap cleanup EXIT
# The "router" is also the LAN's DNS server, and it does not answer (ip netns exec mounts this).
mkdir -p "/etc/netns/$ns"
echo "nameserver 10.99.0.2" > "/etc/netns/$ns/resolv.conf"
ip netns add "$ns"
ip netns add "$ns-r"
ip -n "$ns" link set lo up
ip -n "$ns" link add lan0 type veth peer name up0 netns "$ns-r"
ip -n "$ns" addr add 10.99.0.1/24 dev lan0
ip -n "$ns-r" addr add 10.99.0.2/24 dev up0
ip -n "$ns" link set lan0 up
ip -n "$ns-r" link set up0 up
ip -n "$ns" route add default via 10.99.0.2
ip netns exec "$ns-r" nft -f - <<'NFT'
table inet blackhole {
  chain input { type filter hook input priority 0; policy drop; }
  chain forward { type filter hook forward priority 0; policy drop; }
}
NFT
ip netns exec "$ns" node "$here/stun-offline-bench.mjs" "$@"
