#!/usr/bin/env bash
# The engine benchmark: Sirocco vs llama.cpp's llama-bench and llama-completion on the same
# model and threads, in one run, medians of interleaved rounds, with ratios. Not a test.
#   bash tests/bench/run.sh [model.gguf] [threads] [reps]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
bash tests/fixtures/fetch.sh >&2
model="${1:-${SIROCCO_FIXTURES:-$HOME/.cache/sirocco/fixtures}/SmolLM2-135M-Instruct.Q4_1.gguf}"
llama_tools="$(bash tests/bench/build-llama-tools.sh)"
cargo build -p sirocco-cli --quiet
args=(bench --model "$model" --llama-tools "$llama_tools" --reps "${3:-5}")
[ -n "${2:-}" ] && args+=(--threads "$2")
target/debug/sirocco "${args[@]}"
