#!/usr/bin/env bash
# Signaling server benchmark: parley-server and peerjs-server (npm `peer`) under the same load,
# on this machine, over loopback only. Results: docs/benchmarks.md, "Signaling server".
#
#   scripts/bench-signal.sh            # everything, about 3-5 minutes, stops by itself
#
# Knobs (environment): BENCH_CONNS (15000), BENCH_PAIRS (1000), BENCH_SECONDS (10),
# BENCH_RATE (10000), BENCH_PAYLOAD (200), BENCH_SERVERS ("parley peerjs"),
# BENCH_THREADS (generator threads, 1), BENCH_OUT (results dir), BENCH_QUIET_WAIT (seconds to
# wait for a load average below 1.0 before starting, 300), BENCH_NICE (niceness of servers and
# generator, 0; e.g. -10 as root gives them the CPU ahead of other work), BENCH_RT (1: run the
# latency scenario's server and generator under SCHED_FIFO, so other work on a shared machine
# cannot delay them; that scenario is light, about 0.4 cores), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${BENCH_OUT:-$TARGET/bench-signal}
CONNS=${BENCH_CONNS:-15000}
PAIRS=${BENCH_PAIRS:-1000}
SECS=${BENCH_SECONDS:-10}
RATE=${BENCH_RATE:-10000}
PAYLOAD=${BENCH_PAYLOAD:-200}
SERVERS=${BENCH_SERVERS:-parley peerjs}
THREADS=${BENCH_THREADS:-1}
NICE=(nice -n "${BENCH_NICE:-0}")
PRIO=("${NICE[@]}") # how the current scenario's processes run
PEER_VERSION=1.0.2
PARLEY_PORT=${BENCH_PARLEY_PORT:-18787}
PEERJS_PORT=${BENCH_PEERJS_PORT:-19000}
STEP_TIMEOUT=300 # seconds any one step may take

# 15,000 client sockets in the generator and as many in the server: raise the soft fd limit.
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < CONNS + 1000 )); then
  echo "bench-signal: fd limit $(ulimit -n) is too low for $CONNS connections" >&2
  exit 1
fi

mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
SERVER_PID=

stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap stop_server EXIT INT TERM

echo "== building (release)"
(cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release -q -p parley-loadgen -p parley-server)
LOADGEN=$TARGET/release/parley-loadgen
PARLEY=$TARGET/release/parley-server

PEERJS_DIR=$TARGET/peerjs-$PEER_VERSION
PEERJS=$PEERJS_DIR/node_modules/peer/dist/bin/peerjs.js
if [[ $SERVERS == *peerjs* && ! -f $PEERJS ]]; then
  echo "== installing peer@$PEER_VERSION into $PEERJS_DIR"
  mkdir -p "$PEERJS_DIR"
  (cd "$PEERJS_DIR" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent "peer@$PEER_VERSION")
fi

wait_port() { # port: until something accepts TCP there (15 s at most)
  for _ in $(seq 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "bench-signal: nothing listens on port $1" >&2
  return 1
}

# Starts one server fresh (every scenario gets a fresh process, so RSS starts clean).
# parley: production limits, except where a scenario says otherwise (extra args).
# peerjs: its defaults, except the 5,000-client cap and the 60 s heartbeat timeout that the
# idle scenario would otherwise hit.
start_server() { # name [extra parley-server args...]
  local name=$1; shift
  local port=$PARLEY_PORT; [[ $name == peerjs ]] && port=$PEERJS_PORT
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "bench-signal: port $port is already in use; set BENCH_PARLEY_PORT / BENCH_PEERJS_PORT" >&2
    exit 1
  fi
  case $name in
    parley)
      RUST_LOG=warn "${PRIO[@]}" "$PARLEY" --bind "127.0.0.1:$PARLEY_PORT" "$@" >"$OUT/parley-server.log" 2>&1 &
      SERVER_PID=$!; PORT=$PARLEY_PORT; LABEL="parley-server" ;;
    peerjs)
      "${PRIO[@]}" node "$PEERJS" --host 127.0.0.1 --port "$PEERJS_PORT" --concurrent_limit 20000 \
        --alive_timeout 3600000 >"$OUT/peerjs-server.log" 2>&1 &
      SERVER_PID=$!; PORT=$PEERJS_PORT; LABEL="peerjs-server $PEER_VERSION" ;;
  esac
  wait_port "$PORT"
}

loadgen() { # subcommand name [args...]
  local sub=$1 name=$2; shift 2
  echo "   (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  timeout "$STEP_TIMEOUT" "${PRIO[@]}" "$LOADGEN" "$sub" --kind "$name" --server "127.0.0.1:$PORT" \
    --server-pid "$SERVER_PID" --label "$LABEL" --threads "$THREADS" "$@" >>"$RESULTS" ||
    echo "bench-signal: $sub against $name failed (see above)" >&2
}

# Other work on this machine skews every number: wait (bounded) for a quiet moment.
QUIET_WAIT=${BENCH_QUIET_WAIT:-300}
for (( waited = 0; waited < QUIET_WAIT; waited += 5 )); do
  awk '{ exit !($1 < 1.0) }' /proc/loadavg && break
  (( waited == 0 )) && echo "== waiting up to ${QUIET_WAIT}s for load average < 1.0 (now $(cut -d' ' -f1 /proc/loadavg))"
  sleep 5
done

echo "== $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg), nice ${BENCH_NICE:-0}, rt ${BENCH_RT:-0}"
echo "   node $(node --version), peer $PEER_VERSION, parley $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "(no git)")"
for name in $SERVERS; do
  echo "== $name: $CONNS idle connections"
  start_server "$name"
  loadgen idle "$name" --conns "$CONNS" --per-ip 4 --hold 5
  stop_server

  echo "== $name: relay throughput, $PAIRS room pairs, ${PAYLOAD}-byte payloads, ${SECS}s"
  # The per-connection message rate limit (50/s by default) is an abuse guard that would cap
  # this closed loop at 2 x pairs x 50 msg/s; lift it to measure the relay itself.
  start_server "$name" --msg-rate 1000000 --msg-burst 1000000
  loadgen throughput "$name" --pairs "$PAIRS" --payload "$PAYLOAD" --seconds "$SECS" --window 8
  stop_server

  echo "== $name: relay latency at $RATE msg/s offered, $PAIRS room pairs, ${SECS}s"
  if [[ ${BENCH_RT:-0} == 1 ]]; then PRIO=(chrt -f 1); fi
  start_server "$name"
  loadgen latency "$name" --pairs "$PAIRS" --payload "$PAYLOAD" --seconds "$SECS" --rate "$RATE"
  stop_server
  PRIO=("${NICE[@]}")
done

echo
"$LOADGEN" table "$RESULTS" | tee "$OUT/table.md"
echo "results: $RESULTS"
