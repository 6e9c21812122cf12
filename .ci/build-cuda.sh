#!/usr/bin/env bash
# Builds the `sirocco` CLI with llama.cpp's CUDA backend (the `cuda` feature) using Debian 12's
# CUDA 11.8 (non-free `nvidia-cuda-toolkit`, installed when missing) for one GPU architecture,
# so the feature cannot rot. CPU code is built for x86-64-v3 (AVX2/FMA), not this machine's CPU,
# so the binary runs on the GPU machine it is carried to.
#
#   SIROCCO_CUDA_ARCH   compute capability to build for (default 89: RTX 40xx, L4; built with its
#                       PTX too, which the driver compiles for newer GPUs such as the H100/H200).
#                       Not 90 with CUDA 11.8: the vendored ggml-cuda turns on programmatic
#                       dependent launch from CUDA 11.8 (common.cuh, GGML_CUDA_USE_PDL) but calls
#                       cudaGridDependencySynchronize, which CUDA 11.8 lacks, in code for sm_90.
#   SIROCCO_CUDA_TOOLKIT_ONLY=1  installs the toolkit and stops (for build-gpu-backends.sh cuda)
#   output              target/cuda/release/sirocco (its path is the last line printed)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
arch="${SIROCCO_CUDA_ARCH:-89}"
started=$(date +%s)

if ! command -v nvcc >/dev/null || ! command -v g++-11 >/dev/null; then
  echo "cuda: installing Debian's nvidia-cuda-toolkit (non-free) and g++-11" >&2
  sources=/etc/apt/sources.list.d/debian.sources
  if [ -f "$sources" ] && ! grep -q "non-free" "$sources"; then
    # The bookworm suites gain non-free (the toolkit, libcuda1) and contrib (nvidia-support,
    # which libcuda1 needs to install at all).
    sed -i 's/^Components: main$/Components: main contrib non-free/' "$sources"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nvidia-cuda-toolkit g++-11 >/dev/null
fi
echo "cuda: $(nvcc --version | tail -n 1), host compiler $(g++-11 --version | head -n 1)" >&2
# The toolkit alone (build-gpu-backends.sh's CUDA file needs no Rust build).
[ "${SIROCCO_CUDA_TOOLKIT_ONLY:-}" = 1 ] && exit 0

# nvcc 11.8 takes no gcc newer than 11; llama-cpp-sys-2 hands every CMAKE_*/GGML_* variable to
# CMake. GGML_NATIVE=OFF with the x86-64-v3 features: the CPU code runs on any recent x86-64.
export CMAKE_CUDA_ARCHITECTURES="$arch"
export CMAKE_CUDA_HOST_COMPILER=g++-11
export GGML_NATIVE=OFF GGML_AVX=ON GGML_AVX2=ON GGML_FMA=ON GGML_F16C=ON GGML_BMI2=ON
export RUSTFLAGS="-C target-cpu=x86-64-v3"
# Debian keeps CUDA's static libraries (cudart_static, cublas_static, culibos) in the multiarch
# folder; llama-cpp-sys-2 (through find_cuda_helper) looks in <root>/lib64 of each
# CUDA_LIBRARY_PATH entry. CUDA_PATH also makes its build script run again when it changes.
mkdir -p target/cuda/libroot
ln -sfn "/usr/lib/$(gcc -print-multiarch)" target/cuda/libroot/lib64
export CUDA_PATH=/usr CUDA_LIBRARY_PATH="$repo/target/cuda/libroot"
# llama-cpp-sys-2 does not tell cargo to rerun its build on CMAKE_* changes, and a configured
# CMake cache keeps its old architecture: another architecture starts the CMake build afresh.
mkdir -p target/cuda
if [ "$(cat target/cuda/arch 2>/dev/null)" != "$arch" ]; then
  rm -rf target/cuda/release/build/llama-cpp-sys-2-*
  echo "$arch" > target/cuda/arch
fi
cargo build --release --locked -p sirocco-cli --features cuda --target-dir target/cuda >&2
bin="$repo/target/cuda/release/sirocco"
# The CUDA backend is in the binary, not only declared: ggml-cuda's kernels are linked in.
if ! grep -qa "ggml_cuda_init" "$bin"; then
  echo "cuda: $bin has no CUDA backend" >&2
  exit 1
fi
took=$(( $(date +%s) - started ))
echo "cuda: built for sm_$arch in $took s ($(du -h "$bin" | cut -f1))" >&2
# What was verified, for the test that fails when llama.cpp moves on without this build
# (crates/sirocco-engine/tests/cuda_verified.rs): commit it.
sys=$(grep -A1 '^name = "llama-cpp-sys-2"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
echo "llama-cpp-sys-2 $sys sm_$arch $(nvcc --version | grep -o 'release [0-9.]*') built $(date -u +%F)" > .ci/cuda-verified
echo "$bin"
