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
# BENCH_PIN=1 pins the generator to CPU 1 and every server process (and Redis) to CPU 0, so
# one instance and three instances + Redis get the same server-side CPU: one core.
# BENCH_BASELINE=<parley-server binary> adds a run of three instances of that build (to
# compare two versions of the backplane in one run). BENCH_BIN_DIR=<dir> uses the
# parley-server and parley-loadgen there instead of building them.
# "Server CPU" counts every server process and Redis (utime + stime from /proc over the
# measured window); after each run the script also prints each process's share.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${BENCH_OUT:-$TARGET/bench-backplane}
PAIRS=${BENCH_PAIRS:-200}
SECS=${BENCH_SECONDS:-10}
RATE=${BENCH_RATE:-4000}
PAYLOAD=${BENCH_PAYLOAD:-200}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
PIN=${BENCH_PIN:-0}
BASELINE=${BENCH_BASELINE:-}
SERVER_CPUS=() GEN_CPUS=()
if [[ $PIN == 1 ]]; then SERVER_CPUS=(taskset -c 0) GEN_CPUS=(taskset -c 1); fi

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

BIN_DIR=${BENCH_BIN_DIR:-}
if [[ -z $BIN_DIR ]]; then
  echo "== building (release)"
  (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release -q -p parley-loadgen -p parley-server)
  BIN_DIR=$TARGET/release
fi
LOADGEN=$BIN_DIR/parley-loadgen
PARLEY=$BIN_DIR/parley-server

# Starts parley-server with these args; sets ADDR once it listens.
start_parley() {
  local log=$WORK/parley-$#-$RANDOM.out
  RUST_LOG=warn "${SERVER_CPUS[@]}" "${BIN:-$PARLEY}" --bind 127.0.0.1:0 --msg-rate 1000000 --msg-burst 1000000 \
    --max-conns-per-ip 100000 --join-attempts 100000 "$@" >"$log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do
    if grep -q "listening on" "$log" 2>/dev/null; then
      ADDR=$(sed -n 's|.*listening on http://||p' "$log" | head -1)
      SERVER_PIDS+=("${PIDS[-1]}")
      return
    fi
    sleep 0.05
  done
  echo "bench-backplane: parley-server did not start" >&2; exit 1
}

start_redis() {
  "${SERVER_CPUS[@]}" "$REDIS_SERVER" --port 0 --unixsocket "$WORK/redis.sock" --dir "$WORK" --save "" \
    --appendonly no --logfile "$WORK/redis.log" --daemonize no &
  PIDS+=($!)
  SERVER_PIDS+=($!)
  for _ in $(seq 200); do [[ -S $WORK/redis.sock ]] && return; sleep 0.05; done
  echo "bench-backplane: redis-server did not start" >&2; exit 1
}

# utime + stime of a process, in clock ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

run() { # label server [also-servers...]
  local label=$1 server=$2; shift 2
  local also=() pids=(--server-pid "${SERVER_PIDS[0]}") before=() pid i
  for a in "$@"; do also+=(--also-server "$a"); done
  for pid in "${SERVER_PIDS[@]:1}"; do pids+=(--cpu-pid "$pid"); done
  for pid in "${SERVER_PIDS[@]}"; do before+=("$(ticks "$pid")"); done
  echo "== $label: throughput (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  "${GEN_CPUS[@]}" "$LOADGEN" throughput --kind parley --label "$label" --server "$server" \
    "${also[@]}" "${pids[@]}" --pairs "$PAIRS" --payload "$PAYLOAD" --seconds "$SECS" \
    --window 8 >>"$RESULTS"
  echo -n "   CPU ticks per process over the whole throughput run:"
  for i in "${!SERVER_PIDS[@]}"; do
    pid=${SERVER_PIDS[$i]}
    echo -n " $(tr -d '\0' <"/proc/$pid/comm")=$(($(ticks "$pid") - before[i]))"
  done
  echo
  echo "== $label: latency at $RATE/s (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  "${GEN_CPUS[@]}" "$LOADGEN" latency --kind parley --label "$label" --server "$server" \
    "${also[@]}" "${pids[@]}" --pairs "$PAIRS" --payload "$PAYLOAD" --seconds "$SECS" \
    --rate "$RATE" >>"$RESULTS"
}

shared_run() { # label
  SERVER_PIDS=()
  start_redis
  URL="redis+unix://$WORK/redis.sock"
  start_parley --redis-url "$URL"; a=$ADDR
  start_parley --redis-url "$URL"; b=$ADDR
  start_parley --redis-url "$URL"; c=$ADDR
  # Redis first in SERVER_PIDS; the first instance is the "server" pid.
  SERVER_PIDS=("${SERVER_PIDS[@]:1}" "${SERVER_PIDS[0]}")
  run "$1" "$a" "$b" "$c"
  cleanup
  rm -f "$WORK/redis.sock"
}

SERVER_PIDS=()
start_parley
run "1 instance" "$ADDR"
cleanup

shared_run "3 instances + Redis"
if [[ -n $BASELINE ]]; then
  BIN=$BASELINE shared_run "3 instances + Redis (baseline)"
fi

echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$LOADGEN" table "$RESULTS" | tee "$OUT/table.md"
