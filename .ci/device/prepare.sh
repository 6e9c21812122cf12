#!/usr/bin/env bash
# Prepares what the GPU check (.ci/device/gpu-check.sh) carries to an NVIDIA device machine, in
# .device/ (ignored by git; under the device tool's 64 MiB):
#   sirocco            the CLI, release, CPU-only, portable x86-64-v3 (the device has no Rust);
#   llama.cpp.tar.xz   exactly the llama.cpp llama-cpp-sys-2 vendors, plus the sources of
#                      llama-bench, llama-completion, llama-quantize and rpc-server (from the
#                      llama-cpp-python sdist whose llama.h matches, as tests/bench does), built
#                      there with CUDA for that GPU's architecture only;
#   tokenizer.gguf     a tiny fixture whose tokenizer the benchmark model is given;
#   make_tiny_models.py and the gguf package (pylib/), which write that model there (numpy is
#   on the device); lib/libdbus-1.so.3, which the CLI links and that image lacks.
# Why not a CUDA `sirocco`: linked with CUDA it is 856 MB (.ci/build-cuda.sh), and Debian's
# CUDA 11.8 cannot compile ggml-cuda for Hopper (sm_90). So the GPU is reached the way a user's
# other machine is: an rpc-server built there with CUDA, Sirocco offloading every layer to it.
#   bash .ci/device/prepare.sh        then, with the device tool:
#   run  command="bash .ci/device/gpu-check.sh"  carry=[".device"]  timeout_s=580
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
out="$repo/.device"
mkdir -p "$out"

echo "device: building the portable sirocco CLI (release)" >&2
GGML_NATIVE=OFF GGML_AVX=ON GGML_AVX2=ON GGML_FMA=ON GGML_F16C=ON GGML_BMI2=ON \
  RUSTFLAGS="-C target-cpu=x86-64-v3" \
  cargo build --release --locked -p sirocco-cli --target-dir target/device >&2
strip -o "$out/sirocco" target/device/release/sirocco

sys_dir="$(bash .ci/llama-sources.sh)"
version="$(basename "$sys_dir")"
if [ "$(cat "$out/llama.cpp.version" 2>/dev/null)" != "$version" ]; then
  echo "device: packing $version's llama.cpp with the tools' sources" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  cp -r "$sys_dir/llama.cpp" "$tmp/llama.cpp"
  rm -rf "$tmp/llama.cpp/models" "$tmp/llama.cpp/docs" "$tmp/llama.cpp/examples" "$tmp/llama.cpp/tests" \
    "$tmp/llama.cpp/pocs"
  python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$tmp" "llama-cpp-python==0.3.36" >&2
  for tool in llama-bench completion quantize rpc; do
    tar -xzf "$tmp"/llama_cpp_python-*.tar.gz -C "$tmp" --wildcards "*/vendor/llama.cpp/tools/$tool/*"
    mkdir -p "$tmp/llama.cpp/tools/$tool"
    cp -r "$tmp"/llama_cpp_python-*/vendor/llama.cpp/tools/$tool/. "$tmp/llama.cpp/tools/$tool/"
  done
  tar -C "$tmp" -cJf "$out/llama.cpp.tar.xz" llama.cpp
  echo "$version" > "$out/llama.cpp.version"
fi

bash tests/fixtures/fetch.sh >&2
cp "${SIROCCO_FIXTURES:-$HOME/.cache/sirocco/fixtures}/tiny-mistral-7b-shape.gguf" "$out/tokenizer.gguf"
cp tests/fixtures/make_tiny_models.py "$out/"
# The device's python3 has numpy but not the gguf package; the CLI links libdbus-1 (the system
# keyring), which that image lacks.
py="${SIROCCO_FIXTURES:-$HOME/.cache/sirocco/fixtures}/venv/bin/python"
rm -rf "$out/pylib" "$out/lib" && mkdir -p "$out/pylib" "$out/lib"
cp -r "$("$py" -c 'import gguf, os; print(os.path.dirname(gguf.__file__))')" "$out/pylib/"
rm -rf "$out/pylib/gguf/__pycache__"
cp -L "/lib/$(gcc -print-multiarch)/libdbus-1.so.3" "$out/lib/"
du -sh "$out" >&2
total=$(du -sb "$out" | cut -f1)
if [ "$total" -gt $((60 * 1024 * 1024)) ]; then
  echo "device: $out is $((total / 1024 / 1024)) MiB, over what the device tool carries with the tree" >&2
  exit 1
fi
