#!/usr/bin/env bash
# Builds Sirocco's packages: a .deb and an .rpm (Tauri's bundler) and an AppImage, each with the
# app, the `sirocco` command line and llama.cpp as loadable files — its CPU backend in every
# x86-64 variant ggml has (the best one for the CPU is picked at start), the RPC backend, and GPU
# backends as optional files (Vulkan by default; SIROCCO_PACKAGE_GPU names them): see
# build-gpu-backends.sh.
#
#   output   target/package/out/ (its path is the last line printed)
#
# Unlike the development build (.cargo/config.toml: target-cpu=native), nothing here is built
# for this machine's CPU: RUSTFLAGS replaces the native flag, and llama-cpp-sys-2 then builds
# ggml with GGML_NATIVE=OFF and, with the `dynamic-backends` feature, GGML_BACKEND_DL and
# GGML_CPU_ALL_VARIANTS. Its own target folder keeps the development build's untouched.
# Cold: about 35 minutes on 2 cores (llama.cpp's CPU backend is compiled once per variant).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
started=$(date +%s)
bash .ci/install-deps.sh >&2

export CARGO_TARGET_DIR="$repo/target/package"
# The programs find llama.cpp's libraries in ../lib/sirocco (installed) or beside them (target/).
export RUSTFLAGS='-C link-arg=-Wl,-rpath,$ORIGIN/../lib/sirocco:$ORIGIN'
release="$CARGO_TARGET_DIR/release"
stage="$CARGO_TARGET_DIR/stage"
out="$CARGO_TARGET_DIR/out"
version="$(python3 -c 'import json; print(json.load(open("tauri.conf.json"))["version"])')"

echo "package: building the app and the CLI (release, portable, dynamic backends)" >&2
npm --workspace ui run build >&2
cargo build --release --locked -p sirocco -p sirocco-cli --features sirocco/dynamic-backends,sirocco-cli/dynamic-backends >&2

# llama.cpp's shared libraries as the programs ask for them (their SONAMEs), and the backends.
sys_out="$(ls -td "$release"/build/llama-cpp-sys-2-*/out | head -n 1)"
rm -rf "$stage" && mkdir -p "$stage/lib"
for bin in sirocco-app sirocco; do
  for soname in $(readelf -d "$release/$bin" | sed -n 's/.*(NEEDED).*\[\(lib\(llama\|ggml\|mtmd\)[^]]*\)\]/\1/p'); do
    [ -e "$stage/lib/$soname" ] || cp -L "$sys_out/lib/$soname" "$stage/lib/$soname"
  done
done
cp -L "$sys_out"/backends/libggml-*.so "$stage/lib/"
# GPU backends, optional files ggml loads only where their driver is: SIROCCO_PACKAGE_GPU,
# "vulkan" when unset (~20 min cold, cached), "vulkan cuda" (CUDA 11.8 from .ci/build-cuda.sh,
# ~30 min more), "" for none.
gpu="${SIROCCO_PACKAGE_GPU-vulkan}"
if [ -n "$gpu" ]; then
  read -r -a gpu_backends <<<"$gpu"
  bash .ci/build-gpu-backends.sh "$stage/lib" "${gpu_backends[@]}" >&2
fi
# Each library finds its siblings by itself (llama → ggml → ggml-base), not only through the
# programs that load them first.
command -v patchelf >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf >&2
for lib in "$stage"/lib/*.so*; do patchelf --set-rpath '$ORIGIN' "$lib"; done
variants=$(cd "$stage/lib" && ls libggml-cpu-*.so | sed 's/libggml-cpu-\(.*\)\.so/\1/' | tr '\n' ' ')
echo "package: llama.cpp libraries: $(cd "$stage/lib" && ls | tr '\n' ' ')" >&2
echo "package: CPU variants: $variants" >&2
[ "$(ls "$stage"/lib/libggml-cpu-*.so | wc -l)" -ge 4 ] || { echo "package: too few CPU variants" >&2; exit 1; }

# The files each package carries besides the app: the CLI and the libraries.
python3 - "$stage" "$release" > "$stage/tauri.package.json" <<'EOF'
import json, os, sys
stage, release = sys.argv[1], sys.argv[2]
files = {"/usr/bin/sirocco": os.path.join(release, "sirocco")}
for name in sorted(os.listdir(os.path.join(stage, "lib"))):
    files[f"/usr/lib/sirocco/{name}"] = os.path.join(stage, "lib", name)
vulkan = "/usr/lib/sirocco/libggml-vulkan.so" in files
print(json.dumps({
    "mainBinaryName": "sirocco-app",
    "bundle": {
        "targets": ["deb", "rpm"],
        "shortDescription": "Run open-weight language models on your own machine",
        "longDescription": "A desktop chat app for GGUF models from Hugging Face, running llama.cpp in-process, with a local OpenAI-compatible server. Includes the sirocco command line.",
        "category": "Utility",
        # Beyond WebKitGTK and GTK (Tauri adds those): llama.cpp's OpenMP, TLS and its CA roots, D-Bus.
        "linux": {
            # With the Vulkan file, its loader is recommended, not required: without it the file is
            # skipped and the CPU runs everything.
            # The tray icon's library is recommended too: without it Sirocco runs, with no icon.
            "deb": {"files": files, "section": "utils", "depends": ["libgomp1", "libssl3", "libdbus-1-3", "ca-certificates"],
                    "recommends": ["libayatana-appindicator3-1"] + (["libvulkan1"] if vulkan else [])},
            "rpm": {"files": files, "depends": ["libgomp", "openssl-libs", "dbus-libs", "ca-certificates"],
                    "recommends": ["libayatana-appindicator-gtk3"] + (["vulkan-loader"] if vulkan else [])},
        },
    },
}))
EOF

echo "package: bundling .deb and .rpm" >&2
npx tauri build --ci --features dynamic-backends --config "$stage/tauri.package.json" --bundles deb,rpm >&2

rm -rf "$out" && mkdir -p "$out"
cp "$release"/bundle/deb/*_"$version"_*.deb "$release"/bundle/rpm/*-"$version"-*.rpm "$out/"

echo "package: making the AppImage" >&2
bash .ci/package-appimage.sh "$(ls -d "$release"/bundle/deb/*_"$version"_*/data)" "$out/Sirocco-$version-x86_64.AppImage"

took=$(( $(date +%s) - started ))
echo "package: done in $took s: $(cd "$out" && ls | tr '\n' ' ')" >&2
echo "$out"
