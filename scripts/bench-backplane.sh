#!/usr/bin/env bash
# Shared-rooms benchmark: relay throughput and latency of one parley-server (rooms in memory)
# against three instances sharing rooms through Redis, with each pair's two members on
# different instances. Same load generator (parley-loadgen), same workload, loopback only.
# Results: docs/benchmarks.md, "Shared rooms (Redis)".
#
#   scripts/bench-backplane.sh         # about 2 minutes
#
# Knobs (environment): BENCH_PAIRS (200), BENCH_SECONDS (10), BENCH_RATE (4000 msgs/s offered
# in the latency run), BENCH_PAYLOAD (200), BENCH_OUT (results dir), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${BENCH_OUT:-$TARGET/bench-backplane}
PAIRS=${BENCH_PAIRS:-200}
SECS=${BENCH_SECONDS:-10}
RATE=${BENCH_RATE:-4000}
PAYLOAD=${BENCH_PAYLOAD:-200}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}

[[ -x $REDIS_SERVER ]] || { echo "bench-backplane: $REDIS_SERVER missing (apt install redis-server)" >&2; exit 1; }
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap 'cleanup; rm -rf "$WORK"' EXIT INT TERM

echo "== building (release)"
(cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release -q -p parley-loadgen -p parley-server)
LOADGEN=$TARGET/release/parley-loadgen
PARLEY=$TARGET/release/parley-server

# Starts parley-server with these args; sets ADDR once it listens.
start_parley() {
  local log=$WORK/parley-$#-$RANDOM.out
  RUST_LOG=warn "$PARLEY" --bind 127.0.0.1:0 --msg-rate 1000000 --msg-burst 1000000 \
    --max-conns-per-ip 100000 --join-attempts 100000 "$@" >"$log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do
    if grep -q "listening on" "$log" 2>/dev/null; then
      ADDR=$(sed -n 's|.*listening on http://||p' "$log" | head -1)
      return
    fi
    sleep 0.05
  done
  echo "bench-backplane: parley-server did not start" >&2; exit 1
}

start_redis() {
  "$REDIS_SERVER" --port 0 --unixsocket "$WORK/redis.sock" --dir "$WORK" --save "" \
    --appendonly no --logfile "$WORK/redis.log" --daemonize no &
  PIDS+=($!)
  for _ in $(seq 200); do [[ -S $WORK/redis.sock ]] && return; sleep 0.05; done
  echo "bench-backplane: redis-server did not start" >&2; exit 1
}

run() { # label server [also-servers...]
  local label=$1 server=$2; shift 2
  local also=()
  for a in "$@"; do also+=(--also-server "$a"); done
  echo "== $label: throughput (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$LOADGEN" throughput --kind parley --label "$label" --server "$server" "${also[@]}" \
    --pairs "$PAIRS" --payload "$PAYLOAD" --seconds "$SECS" --window 8 >>"$RESULTS"
  echo "== $label: latency at $RATE/s (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$LOADGEN" latency --kind parley --label "$label" --server "$server" "${also[@]}" \
    --pairs "$PAIRS" --payload "$PAYLOAD" --seconds "$SECS" --rate "$RATE" >>"$RESULTS"
}

start_parley
run "1 instance" "$ADDR"
cleanup

start_redis
URL="redis+unix://$WORK/redis.sock"
start_parley --redis-url "$URL"; a=$ADDR
start_parley --redis-url "$URL"; b=$ADDR
start_parley --redis-url "$URL"; c=$ADDR
run "3 instances + Redis" "$a" "$b" "$c"
cleanup

echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$LOADGEN" table "$RESULTS" | tee "$OUT/table.md"
