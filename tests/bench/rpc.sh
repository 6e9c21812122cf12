#!/usr/bin/env bash
# Layers on another machine: Sirocco with half the layers on one `sirocco worker` against
# llama.cpp's llama-bench --rpc with the same layout (its own worker: a worker serves one machine
# at a time), over loopback and over a network-namespace link shaped to 1 Gbit/s with tc; and
# all-local, to show what the network costs. Not a test. Needs root (ip netns, tc).
#   bash tests/bench/rpc.sh [model.gguf] [layers on the worker] [reps]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
bash tests/fixtures/fetch.sh >&2
model="${1:-${SIROCCO_FIXTURES:-$HOME/.cache/sirocco/fixtures}/SmolLM2-135M-Instruct.Q4_1.gguf}"
layers="${2:-15}"
reps="${3:-3}"
tools="$(bash tests/bench/build-llama-tools.sh)"
cargo build -p sirocco-cli --quiet
sirocco="$repo/target/debug/sirocco"
work="$(mktemp -d)"
ns="sirocco-bench-$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a worker (optionally inside the namespace) and waits until it listens.
worker() { # name host port [netns]
  local log="$work/$1.log"
  if [ -n "${4:-}" ]; then
    ip netns exec "$4" "$sirocco" worker --host "$2" --port "$3" >"$log" 2>&1 &
  else
    "$sirocco" worker --host "$2" --port "$3" >"$log" 2>&1 &
  fi
  pids+=($!)
  for _ in $(seq 300); do grep -q "listening" "$log" && return 0; sleep 0.1; done
  echo "worker $1 did not start: $(cat "$log")" >&2; exit 1
}

bench() { # label layers sirocco-worker llama-worker
  echo "== $1" >&2
  "$sirocco" bench --model "$model" --llama-tools "$tools" --reps "$reps" --gpu-layers "$2" \
    --worker "$3" --llama-rpc "$4" | tee "$work/$1.txt" | grep -E "ratio|tok/s"
}

worker local-a 127.0.0.1 50061
worker local-b 127.0.0.1 50062
bench all-local 0 127.0.0.1:50061 127.0.0.1:50062
bench loopback "$layers" 127.0.0.1:50061 127.0.0.1:50062

ip netns add "$ns"
ip link add sbh$$ type veth peer name sbt$$
ip link set sbt$$ netns "$ns"
ip addr add 10.78.0.1/24 dev sbh$$
ip link set sbh$$ up
ip -n "$ns" addr add 10.78.0.2/24 dev sbt$$
ip -n "$ns" link set sbt$$ up
ip -n "$ns" link set lo up
tc qdisc add dev sbh$$ root tbf rate 1gbit burst 256kb latency 50ms
ip netns exec "$ns" tc qdisc add dev sbt$$ root tbf rate 1gbit burst 256kb latency 50ms
worker ns-a 10.78.0.2 50061 "$ns"
worker ns-b 10.78.0.2 50062 "$ns"
bench gbit "$layers" 10.78.0.2:50061 10.78.0.2:50062

rate() { grep "^sirocco $2" "$work/$1.txt" | head -1 | sed -E 's/.*: ([0-9.]+) tok\/s/\1/'; }
echo
echo "Sirocco with $layers layers on a worker vs all on this machine (tok/s ratio):"
for link in loopback gbit; do
  for what in "prefill" "decode (128 tokens, greedy)"; do
    python3 -c "import sys; print(f'  {sys.argv[1]:<8} {sys.argv[2]:<28} {float(sys.argv[3]) / float(sys.argv[4]):.3f}')" \
      "$link" "$what" "$(rate "$link" "$what")" "$(rate all-local "$what")"
  done
done
