#!/usr/bin/env bash
# The drafting benchmark: Sirocco's drafted tokens against llama.cpp's own speculative decoding
# (llama-speculative-simple from the same llama.cpp) and each side's plain decode, on an edit, a
# code continuation and a free chat (see crates/sirocco-cli/src/bench_spec.rs). Not a test.
#   bash tests/bench/spec.sh [threads] [reps]
# Two setups, as the issue names them:
#   - n-gram drafting on SmolLM2 alone (ngram-simple, then ngram-mod: llama-server's --spec-default);
#   - a real target/draft pair: SmolLM2 requantised to Q8_0 as the target and to Q2_K as the draft
#     (llama-quantize --allow-requantize, from the fixture's Q4_1), 8 tokens a draft.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
bash tests/fixtures/fetch.sh >&2
fixtures="${SIROCCO_FIXTURES:-$HOME/.cache/sirocco/fixtures}"
smol="$fixtures/SmolLM2-135M-Instruct.Q4_1.gguf"
tools="$(bash tests/bench/build-llama-tools.sh)"
pair="$HOME/.cache/sirocco/bench-spec"
mkdir -p "$pair"
for q in Q8_0 Q2_K; do
  [ -s "$pair/SmolLM2-135M-Instruct.$q.gguf" ] ||
    "$tools/llama-quantize" --allow-requantize "$smol" "$pair/SmolLM2-135M-Instruct.$q.gguf" "$q" >/dev/null 2>&1
done
cargo build -p sirocco-cli --quiet
args=(--llama-tools "$tools" --reps "${2:-3}")
[ -n "${1:-}" ] && args+=(--threads "$1")
for kind in ngram-simple ngram-mod; do
  target/debug/sirocco bench-spec --model "$smol" --spec-type "$kind" "${args[@]}"
done
target/debug/sirocco bench-spec --model "$pair/SmolLM2-135M-Instruct.Q8_0.gguf" \
  --draft-model "$pair/SmolLM2-135M-Instruct.Q2_K.gguf" --draft-max 8 "${args[@]}"
