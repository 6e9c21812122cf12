#!/usr/bin/env bash
# The GPU check, run on an NVIDIA device machine from what .ci/device/prepare.sh put in .device/:
#   1. builds llama.cpp's llama-bench, llama-completion, llama-quantize and rpc-server with CUDA
#      for this GPU's architecture only (nvcc and cmake are there; the sources are the ones the
#      app links), their CPU side with the carried CLI's flags (AVX2, not native): on
#      2026-12-04, built native (that host's AVX-512 and, likely, AMX), llama-bench ran the
#      CPU's half of a half-offloaded prefill ~8x faster than the portable CLI — unlike with unlike;
#   2. writes a Mistral-shaped benchmark model (8 layers of Mistral 7B's width, Q4_K_M) while
#      the tools build;
#   3. starts two rpc-servers on the GPU (a worker serves one client at a time: one for Sirocco,
#      one for llama-bench) and runs `sirocco bench` with every layer on the GPU through its
#      worker against llama-bench --rpc with the same layout, then with half the layers there,
#      then llama-bench with CUDA in process, which is what the network hop costs;
#   4. leaves the reports and the rpc-servers' logs (VRAM they allocated) in $OUT.
# The carried CLI needs libdbus-1 (the keyring), which that image lacks: prepare.sh carries it.
# SIROCCO_DEVICE_LAYOUTS: "all half" (default), or one of them.
# Runs on 2026-12-04 (H200, CUDA 13.0): tools 217–255 s (the model is written meanwhile), the
# full-GPU bench ~60 s, the half-offload bench ~100 s with native tools (more with AVX2 ones: a
# 330 s call ran out during it). Give it 480 s or more.
# SIROCCO_DEVICE_DRY=1 runs the same steps on a CPU machine (no CUDA, a small model): the check
# of this script that needs no GPU (SIROCCO_DEVICE_PYTHON: a python3 with numpy).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
dev="$repo/.device"
out="${OUT:-$repo/target/device-out}"
mkdir -p "$out"
work="${SIROCCO_DEVICE_WORK:-/tmp/sirocco-gpu}"
mkdir -p "$work"
log() { echo "gpu-check: $*" | tee -a "$out/summary.txt" >&2; }
started=$(date +%s)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

gpu=()
if [ "${SIROCCO_DEVICE_DRY:-}" != 1 ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv | tee -a "$out/summary.txt"
  arch="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d . )"
  gpu=(-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch")
  log "nvcc: $(nvcc --version | tail -1); building for sm_$arch"
fi

[ -d "$work/llama.cpp" ] || tar -C "$work" -xJf "$dev/llama.cpp.tar.xz"
mkdir -p "$work/wrapper"
cat > "$work/wrapper/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.14)
project(sirocco_gpu_tools C CXX)
add_subdirectory("$work/llama.cpp" llama.cpp)
add_subdirectory("$work/llama.cpp/tools/llama-bench" llama-bench)
add_subdirectory("$work/llama.cpp/tools/completion" completion)
add_subdirectory("$work/llama.cpp/tools/quantize" quantize)
add_subdirectory("$work/llama.cpp/tools/rpc" rpc)
CMAKE
if [ "${SIROCCO_DEVICE_DRY:-}" = 1 ]; then
  shape=(2 256 8 2 512); ngl=99
else
  shape=(8 4096 32 8 14336); ngl=99
fi
model="$work/bench-${shape[0]}x${shape[1]}.Q4_K_M.gguf"
# The f16 model is written while the tools build (it needs only numpy): device time is short.
gen_pid=""
if [ ! -f "$model" ]; then
  PYTHONPATH="$dev/pylib" "${SIROCCO_DEVICE_PYTHON:-python3}" "$dev/make_tiny_models.py" --shape "$dev/tokenizer.gguf" \
    "$work/bench.f16.gguf" "${shape[@]}" > "$out/make-model.log" 2>&1 &
  gen_pid=$!
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$work/wrapper" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_RPC=ON -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_COMMON=ON \
  -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DCMAKE_RUNTIME_OUTPUT_DIRECTORY="$work/build/bin" "${gpu[@]}" > "$work/cmake.log" 2>&1 \
  || { tail -40 "$work/cmake.log" | tee "$out/cmake-tail.log" >&2; exit 1; }
cmake --build "$work/build" --target llama-bench llama-completion llama-quantize ggml-rpc-server \
  -j "$(nproc)" > "$work/build.log" 2>&1 || { tail -60 "$work/build.log" | tee "$out/build-tail.log" >&2; exit 1; }
bin="$work/build/bin"
log "tools built at $(( $(date +%s) - started )) s"

if [ -n "$gen_pid" ]; then
  wait "$gen_pid" || { cat "$out/make-model.log" >&2; exit 1; }
  "$bin/llama-quantize" "$work/bench.f16.gguf" "$model" Q4_K_M > "$work/quantize.log" 2>&1
  rm -f "$work/bench.f16.gguf"
fi
log "model $(basename "$model"): $(du -h "$model" | cut -f1), at $(( $(date +%s) - started )) s"

# Two workers on this machine's GPU; each is told to print what it allocates.
server() { # port log
  "$bin/ggml-rpc-server" -H 127.0.0.1 -p "$1" > "$2" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "rpc-server on $1 did not listen: $(cat "$2")" >&2; exit 1
}
server 50061 "$out/rpc-sirocco.log"
server 50062 "$out/rpc-llama.log"
chmod +x "$dev/sirocco"
layouts="${SIROCCO_DEVICE_LAYOUTS:-all half}"  # which benches run: every layer on the GPU, half
export LD_LIBRARY_PATH="$dev/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"  # libdbus (the keyring), absent there
if [[ " $layouts " == *" all "* ]]; then
  "$dev/sirocco" bench --model "$model" --llama-tools "$bin" --reps "${SIROCCO_DEVICE_REPS:-3}" \
    --gpu-layers "$ngl" --worker 127.0.0.1:50061 --llama-rpc 127.0.0.1:50062 2>"$out/bench.err" \
    | tee "$out/bench-worker-gpu.txt"
  log "sirocco bench done at $(( $(date +%s) - started )) s"
fi
# Half the layers on the worker, the rest on this machine's CPU (the workers are reused: each
# serves its next client once the last has gone).
if [[ " $layouts " == *" half "* ]]; then
  "$dev/sirocco" bench --model "$model" --llama-tools "$bin" --reps "${SIROCCO_DEVICE_REPS:-3}" \
    --gpu-layers "$(( shape[0] / 2 ))" --worker 127.0.0.1:50061 --llama-rpc 127.0.0.1:50062 2>"$out/bench-half.err" \
    | tee "$out/bench-worker-half.txt"
  log "half-offload bench done at $(( $(date +%s) - started )) s"
fi

# llama.cpp with the GPU in its own process: what the worker hop costs.
if [[ " $layouts " == *" all "* ]]; then
  "$bin/llama-bench" -m "$model" -ngl "$ngl" -fa 1 -p 512 -n 128 -r "${SIROCCO_DEVICE_REPS:-3}" \
    -o md | tee "$out/llama-bench-in-process.md"
fi
[ "${SIROCCO_DEVICE_DRY:-}" = 1 ] || nvidia-smi | tee -a "$out/summary.txt"
log "finished in $(( $(date +%s) - started )) s"
