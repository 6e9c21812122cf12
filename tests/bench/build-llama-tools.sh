#!/usr/bin/env bash
# Builds llama.cpp's own llama-bench, llama-completion and llama-batched-bench from exactly the llama.cpp sources
# llama-cpp-sys-2 vendors (its crate ships no tool sources, so the tools' sources come from the
# llama.cpp tree inside the llama-cpp-python sdist on PyPI, whose llama.h matches), with the
# same native CPU features as the app. Prints the folder of the binaries. Cached by crate
# version.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
sys_dir="$(bash "$repo/.ci/llama-sources.sh")"
version="$(basename "$sys_dir")"
# With the RPC backend, as the app is built (llama-bench --rpc measures workers too).
out="${SIROCCO_TOOLS:-$HOME/.cache/sirocco/llama-tools}/$version-rpc"
gpu=()
if [ "${SIROCCO_GPU:-}" = cuda ]; then out="$out-cuda"; gpu=(-DGGML_CUDA=ON); fi
bin="$out/build/bin"
tools=(llama-bench llama-completion llama-batched-bench)
missing=0
for t in "${tools[@]}"; do [ -x "$bin/$t" ] || missing=1; done
if [ "$missing" = 0 ]; then echo "$bin"; exit 0; fi

echo "bench: building ${tools[*]} from $version's llama.cpp (a few minutes)" >&2
mkdir -p "$out"
# An earlier build's objects are reused: only the missing tools are compiled.
[ -d "$out/llama.cpp" ] || cp -r "$sys_dir/llama.cpp" "$out/llama.cpp"
sdist_dir="$(mktemp -d)"
python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$sdist_dir" "llama-cpp-python==0.3.36" >&2
for tool in llama-bench completion batched-bench; do
  mkdir -p "$out/llama.cpp/tools/$tool"
  tar -xzf "$sdist_dir"/llama_cpp_python-*.tar.gz -C "$sdist_dir" --wildcards "*/vendor/llama.cpp/tools/$tool/*"
  cp -r "$sdist_dir"/llama_cpp_python-*/vendor/llama.cpp/tools/$tool/. "$out/llama.cpp/tools/$tool/"
done
rm -rf "$sdist_dir"
mkdir -p "$out/wrapper"
cat > "$out/wrapper/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.14)
project(sirocco_llama_tools C CXX)
add_subdirectory("$out/llama.cpp" llama.cpp)
add_subdirectory("$out/llama.cpp/tools/llama-bench" llama-bench)
add_subdirectory("$out/llama.cpp/tools/completion" completion)
add_subdirectory("$out/llama.cpp/tools/batched-bench" batched-bench)
CMAKE
cmake -S "$out/wrapper" -B "$out/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_RPC=ON \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DCMAKE_RUNTIME_OUTPUT_DIRECTORY="$out/build/bin" "${gpu[@]}" >&2
cmake --build "$out/build" --target "${tools[@]}" -j "$(nproc)" >&2
echo "$bin"
