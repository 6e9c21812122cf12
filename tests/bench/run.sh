#!/usr/bin/env bash
# The engine benchmark: Sirocco vs llama.cpp's llama-bench on the same model and threads, in
# one run, medians of repeated rounds, with ratios. Not a test: run it by hand.
#   bash tests/bench/run.sh [model.gguf] [threads] [reps]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
bash tests/fixtures/fetch.sh >&2
model="${1:-${SIROCCO_FIXTURES:-$HOME/.cache/sirocco/fixtures}/SmolLM2-135M-Instruct.Q4_1.gguf}"
llama_bench="$(bash tests/bench/build-llama-tools.sh)"
cargo build -p sirocco-cli --quiet
args=(bench --model "$model" --llama-bench "$llama_bench" --reps "${3:-5}")
[ -n "${2:-}" ] && args+=(--threads "$2")
target/debug/sirocco "${args[@]}"
