#!/usr/bin/env bash
# Builds llama.cpp's GPU backends as loadable files for the packages (ggml's GGML_BACKEND_DL
# modules: libggml-vulkan.so, libggml-cuda.so), from exactly the llama.cpp sources
# llama-cpp-sys-2 vendors, so they load into the package's libggml-base. Each is optional at
# run time: ggml loads it only where its driver is there (a Vulkan loader and driver; NVIDIA's
# libcuda), and skips it otherwise.
#
#   bash .ci/build-gpu-backends.sh OUT_DIR [vulkan] [cuda]      (default: vulkan)
#
# Vulkan: ggml-vulkan needs Vulkan headers >= 1.3.261 (VK_EXT_layer_settings); Debian 12 has
# 1.3.239. The headers (and SPIR-V's) are taken from Debian 13's libvulkan-dev and spirv-headers
# packages, checked against the archive's package index, unpacked into the build folder — never
# installed; the loader linked against and the shader compiler (glslc) are Debian 12's.
# CUDA: Debian 12's nvidia-cuda-toolkit 11.8 (as .ci/build-cuda.sh), for SIROCCO_CUDA_ARCH
# (default 89), cuBLAS and the runtime linked statically: the file needs only the driver.
# Cold on 2 cores: Vulkan ~20 min (its shaders), CUDA ~30 min. Cached in target/gpu-backends.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
shift
backends=("${@:-vulkan}")
work="$repo/target/gpu-backends"
mkdir -p "$work"
say() { echo "gpu-backends: $*" >&2; }

sys_dir="$(bash .ci/llama-sources.sh)"
version="$(basename "$sys_dir")"

# The CMake settings the package's own ggml is built with (llama-cpp-sys-2, dynamic-backends).
common=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DGGML_BACKEND_DL=ON -DGGML_NATIVE=OFF
        -DGGML_OPENMP=ON -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF
        -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_CURL=OFF
        -DLLAMA_OPENSSL=OFF)

vulkan_sdk() { # Debian 13's headers in a folder laid out as a Vulkan SDK; prints its path
  local sdk="$work/vulkan-sdk" index="$work/trixie-Packages"
  if [ ! -f "$sdk/ready" ]; then
    rm -rf "$sdk" && mkdir -p "$sdk/debs" "$sdk/bin" "$sdk/lib"
    curl -fsS http://deb.debian.org/debian/dists/trixie/main/binary-amd64/Packages.xz | xz -dc > "$index"
    for pkg in libvulkan-dev spirv-headers; do
      read -r file sum < <(awk -v p="$pkg" '/^Package: /{on=($2==p)} on&&/^Filename: /{f=$2} on&&/^SHA256: /{print f, $2; exit}' "$index")
      [ -n "$file" ] || { say "no $pkg in Debian 13's index"; exit 1; }
      curl -fsS -o "$sdk/debs/$(basename "$file")" "http://deb.debian.org/debian/$file"
      echo "$sum  $sdk/debs/$(basename "$file")" | sha256sum -c --quiet - >&2 || { say "$file: checksum differs"; exit 1; }
      dpkg-deb -x "$sdk/debs/$(basename "$file")" "$sdk/root"
    done
    ln -s "$sdk/root/usr/include" "$sdk/include"
    ln -s "$sdk/root/usr/share" "$sdk/share"
    ln -s "/usr/lib/$(gcc -print-multiarch)/libvulkan.so.1" "$sdk/lib/libvulkan.so"
    ln -s /usr/bin/glslc "$sdk/bin/glslc"
    touch "$sdk/ready"
  fi
  echo "$sdk"
}

for backend in "${backends[@]}"; do
  build="$work/$version-$backend"
  case "$backend" in
    vulkan)
      command -v glslc >/dev/null && [ -e "/usr/lib/$(gcc -print-multiarch)/libvulkan.so.1" ] || {
        say "installing glslc and the Vulkan loader (Debian 12)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends glslc libvulkan1 >/dev/null
      }
      sdk="$(vulkan_sdk)"
      say "building libggml-vulkan.so from $version's llama.cpp (headers $(ls "$sdk"/debs | tr '\n' ' '))"
      VULKAN_SDK="$sdk" cmake -S "$sys_dir/llama.cpp" -B "$build" "${common[@]}" -DGGML_VULKAN=ON \
        -DCMAKE_PREFIX_PATH="$sdk/share/cmake" >&2
      VULKAN_SDK="$sdk" cmake --build "$build" --target ggml-vulkan -j "$(nproc)" >&2
      ;;
    cuda)
      command -v nvcc >/dev/null && command -v g++-11 >/dev/null || SIROCCO_CUDA_TOOLKIT_ONLY=1 bash .ci/build-cuda.sh
      arch="${SIROCCO_CUDA_ARCH:-89}"
      build="$build-sm$arch"
      say "building libggml-cuda.so for sm_$arch from $version's llama.cpp"
      # cuBLAS and the runtime linked statically, so the file needs only NVIDIA's driver. Not
      # with ggml's GGML_STATIC, which links everything with -static (no shared library can
      # be): a wrapper swaps ggml-cuda's CUDA libraries for their static kinds.
      mkdir -p "$work/cuda-wrapper"
      cat > "$work/cuda-wrapper/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(sirocco_ggml_cuda C CXX)
add_subdirectory("$sys_dir/llama.cpp" llama.cpp)
get_target_property(libs ggml-cuda LINK_LIBRARIES)
list(REMOVE_ITEM libs CUDA::cudart CUDA::cublas)
list(APPEND libs CUDA::cudart_static CUDA::cublas_static CUDA::cublasLt_static)
set_property(TARGET ggml-cuda PROPERTY LINK_LIBRARIES "\${libs}")
CMAKE
      cmake -S "$work/cuda-wrapper" -B "$build" "${common[@]}" -DGGML_CUDA=ON \
        -DCMAKE_CUDA_ARCHITECTURES="$arch" -DCMAKE_CUDA_HOST_COMPILER=g++-11 >&2
      cmake --build "$build" --target ggml-cuda -j "$(nproc)" >&2
      ;;
    *) say "unknown backend $backend (vulkan, cuda)"; exit 1 ;;
  esac
  file="$(find "$build" -name "libggml-$backend.so" -print -quit)"
  [ -n "$file" ] || { say "the build made no libggml-$backend.so"; exit 1; }
  cp -L "$file" "$out/libggml-$backend.so"
  say "$out/libggml-$backend.so ($(du -h "$out/libggml-$backend.so" | cut -f1))"
done
