#!/usr/bin/env bash
# The engine benchmark: Sirocco vs llama.cpp's llama-bench and llama-completion on the same
# model and threads, in one run, medians of interleaved rounds, with ratios. Not a test.
#   bash tests/bench/run.sh [model.gguf] [threads] [reps]
# On a machine with an NVIDIA GPU and CUDA's toolkit: SIROCCO_GPU=cuda (every layer on the GPU,
# both sides; the app and llama.cpp's tools built with CUDA).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
bash tests/fixtures/fetch.sh >&2
model="${1:-${SIROCCO_FIXTURES:-$HOME/.cache/sirocco/fixtures}/SmolLM2-135M-Instruct.Q4_1.gguf}"
llama_tools="$(bash tests/bench/build-llama-tools.sh)"
features=()
[ "${SIROCCO_GPU:-}" = cuda ] && features=(--features cuda)
cargo build -p sirocco-cli --quiet "${features[@]}"
args=(bench --model "$model" --llama-tools "$llama_tools" --reps "${3:-5}")
[ "${SIROCCO_GPU:-}" = cuda ] && args+=(--gpu-layers 999)
[ -n "${2:-}" ] && args+=(--threads "$2")
target/debug/sirocco "${args[@]}"
