#!/usr/bin/env bash
# Builds llama.cpp's own llama-bench, llama-completion, llama-batched-bench, llama-speculative-simple
# (its speculative decoding, for tests/bench/spec.sh) and llama-quantize from exactly the llama.cpp sources
# llama-cpp-sys-2 vendors (its crate ships no tool sources, so the tools' sources come from the
# llama.cpp tree inside the llama-cpp-python sdist on PyPI, whose llama.h matches), with the
# same native CPU features as the app. Prints the folder of the binaries. Cached by crate
# version. Names given as arguments build only those tools (CI needs llama-completion alone).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
sys_dir="$(bash "$repo/.ci/llama-sources.sh")"
version="$(basename "$sys_dir")"
# With the RPC backend, as the app is built (llama-bench --rpc measures workers too).
out="${SIROCCO_TOOLS:-$HOME/.cache/sirocco/llama-tools}/$version-rpc"
gpu=()
if [ "${SIROCCO_GPU:-}" = cuda ]; then out="$out-cuda"; gpu=(-DGGML_CUDA=ON); fi
bin="$out/build/bin"
all_tools=(llama-bench llama-completion llama-batched-bench llama-speculative-simple llama-quantize)
# Each tool's folder in llama.cpp's tree.
all_sources=(tools/llama-bench tools/completion tools/batched-bench examples/speculative-simple tools/quantize)
tools=() sources=()
for i in "${!all_tools[@]}"; do
  if [ $# -eq 0 ] || [[ " $* " == *" ${all_tools[$i]} "* ]]; then
    tools+=("${all_tools[$i]}"); sources+=("${all_sources[$i]}")
  fi
done
[ ${#tools[@]} -gt 0 ] || { echo "build-llama-tools.sh: no such tool: $*" >&2; exit 2; }
missing=0
for t in "${tools[@]}"; do [ -x "$bin/$t" ] || missing=1; done
if [ "$missing" = 0 ]; then echo "$bin"; exit 0; fi

echo "bench: building ${tools[*]} from $version's llama.cpp (a few minutes)" >&2
mkdir -p "$out"
# An earlier build's objects are reused: only the missing tools are compiled.
[ -d "$out/llama.cpp" ] || cp -r "$sys_dir/llama.cpp" "$out/llama.cpp"
sdist_dir="$(mktemp -d)"
python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$sdist_dir" "llama-cpp-python==0.3.36" >&2
for src in "${sources[@]}"; do
  mkdir -p "$out/llama.cpp/$src"
  tar -xzf "$sdist_dir"/llama_cpp_python-*.tar.gz -C "$sdist_dir" --wildcards "*/vendor/llama.cpp/$src/*"
  cp -r "$sdist_dir"/llama_cpp_python-*/vendor/llama.cpp/$src/. "$out/llama.cpp/$src/"
done
rm -rf "$sdist_dir"
mkdir -p "$out/wrapper"
{
  echo "cmake_minimum_required(VERSION 3.14)"
  echo "project(sirocco_llama_tools C CXX)"
  echo "add_subdirectory(\"$out/llama.cpp\" llama.cpp)"
  for src in "${sources[@]}"; do echo "add_subdirectory(\"$out/llama.cpp/$src\" $(basename "$src"))"; done
} > "$out/wrapper/CMakeLists.txt"
cmake -S "$out/wrapper" -B "$out/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_RPC=ON \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DCMAKE_RUNTIME_OUTPUT_DIRECTORY="$out/build/bin" "${gpu[@]}" >&2
cmake --build "$out/build" --target "${tools[@]}" -j "$(nproc)" >&2
echo "$bin"
