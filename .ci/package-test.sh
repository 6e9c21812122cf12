#!/usr/bin/env bash
# Tests the packages `bash .ci/package.sh` built (in target/package/out, or the folder given):
#   1. what each carries: the app, the CLI, llama.cpp's libraries and CPU variants, the desktop
#      entry and icons (.deb and .rpm alike);
#   2. portability: the packaged CLI answers under `qemu-x86_64 -cpu Nehalem` (SSE4.2, no AVX)
#      and its log names the variant picked — the one ggml scores best for that CPU, checked
#      here by asking each variant file itself (ggml_backend_score) — and here, natively, the best
#      for this CPU; the Vulkan backend file runs every layer on Mesa's software Vulkan device
#      (lavapipe) with the CPU's greedy answer, and leaves that device alone unless it is named;
#   3. the .deb installed with apt into a clean Debian 12 root (debootstrap), and the AppImage
#      in another clean root that has only a desktop's libraries; each app started there under
#      Xvfb: its window opens and it answers through the server it starts at launch, with
#      SmolLM2 from its library (on demand), naming its CPU variant in its log; screenshots are
#      left in target/package/test/;
#   4. the engine benchmark on the packaged CLI against llama-bench (native) in the same run.
# Needs root (chroot, mounts). The clean root is cached (~/.cache/sirocco/debootstrap).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
out="$(cd "${1:-target/package/out}" && pwd)"
work="$repo/target/package/test"
cache="${SIROCCO_DEBOOTSTRAP_CACHE:-$HOME/.cache/sirocco/debootstrap}"
mirror="${SIROCCO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
fixtures="${SIROCCO_FIXTURES:-$HOME/.cache/sirocco/fixtures}"
model="$fixtures/SmolLM2-135M-Instruct.Q4_1.gguf"
deb="$(ls "$out"/*.deb)"
rpm="$(ls "$out"/*.rpm)"
appimage="$(ls "$out"/*.AppImage)"
started=$(date +%s)
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
step() { echo "package-test: $*" >&2; }

for tool in debootstrap qemu-x86_64 rpm Xvfb xdotool import; do
  command -v "$tool" >/dev/null || {
    step "installing debootstrap, qemu-user, rpm, xvfb, xdotool, imagemagick"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      debootstrap qemu-user rpm xvfb xdotool imagemagick >/dev/null
    break
  }
done
bash tests/fixtures/fetch.sh >&2
rm -rf "$work" && mkdir -p "$work"

# --- 1. contents ----------------------------------------------------------------------------
step "1. contents of $(basename "$deb") and $(basename "$rpm")"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./||; s|^/*|/|' > "$work/deb.files"
rpm -qlp "$rpm" 2>/dev/null > "$work/rpm.files"
for list in deb rpm; do
  for want in /usr/bin/sirocco-app /usr/bin/sirocco /usr/share/applications/Sirocco.desktop \
              /usr/lib/sirocco/libllama.so /usr/lib/sirocco/libggml-cpu-x64.so \
              /usr/lib/sirocco/libggml-cpu-sse42.so /usr/lib/sirocco/libggml-cpu-haswell.so \
              /usr/lib/sirocco/libggml-rpc.so; do
    grep -q "^$want" "$work/$list.files" || fail "the .$list has no $want"
  done
  grep -q "^/usr/share/icons/hicolor/.*/apps/sirocco-app.png" "$work/$list.files" || fail "the .$list has no icon"
done
dpkg-deb -f "$deb" Depends | grep -q "libwebkit2gtk-4.1-0" || fail "the .deb does not depend on WebKitGTK"
dpkg-deb -f "$deb" Recommends | grep -q "libayatana-appindicator3-1" || fail "the .deb does not recommend the tray icon's library"
if grep -q "^/usr/lib/sirocco/libggml-vulkan.so" "$work/deb.files"; then
  dpkg-deb -f "$deb" Recommends | grep -q "libvulkan1" || fail "the .deb has the Vulkan file but does not recommend its loader"
fi
step "   and $(basename "$appimage")"
[ "$(dd if="$appimage" bs=1 skip=8 count=3 status=none | od -An -c | tr -d ' ')" = AI002 ] ||
  fail "$(basename "$appimage") is not a type 2 AppImage"
(cd "$work" && "$appimage" --appimage-extract >/dev/null) || fail "the AppImage does not extract"
for want in AppRun sirocco-app.desktop sirocco-app.png usr/bin/sirocco-app usr/bin/sirocco \
            usr/lib/sirocco/libllama.so.0 usr/lib/sirocco/libggml-cpu-x64.so usr/lib/sirocco/libggml-rpc.so \
            usr/lib/bundled/libwebkit2gtk-4.1.so.0 usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitWebProcess; do
  [ -e "$work/squashfs-root/$want" ] || fail "the AppImage has no $want"
done
rm -rf "$work/squashfs-root"

# The installed tree, unpacked (for the CLI runs below).
tree="$work/tree"
dpkg-deb -x "$deb" "$tree"
cli="$tree/usr/bin/sirocco"
libs="$tree/usr/lib/sirocco"

# Which variant ggml loads on a CPU: the highest ggml_backend_score among the files (0: unusable).
cat >"$work/best_variant.py" <<'EOF'
import ctypes, glob, os, sys
best, best_score = None, 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "libggml-cpu-*.so"))):
    score = ctypes.CDLL(path).ggml_backend_score()
    if score > best_score:
        best, best_score = os.path.basename(path)[len("libggml-cpu-"):-3], score
print(best)
EOF
best_variant() { # $1: a command prefix to run python under (e.g. qemu), or empty
  $1 /usr/bin/python3 "$work/best_variant.py" "$libs"  # a real program (qemu runs no pyenv shim)
}

# --- 2. portability: an older CPU (emulated) and this one -------------------------------------
ask_cli() { # $1: a command prefix (qemu or empty), $2: data dir
  echo "What is the capital of France? Answer in one word." |
    SIROCCO_DATA_DIR="$2" timeout 900 $1 "$cli" chat --model "$model" --max-tokens 8 --temperature 0 --context 512 2>"$2.stderr"
}
picked_variant() { grep -ho 'cpu_backend="\?[a-z0-9_]*' "$1"/logs/sirocco.*.log | tail -n 1 | cut -d= -f2 | tr -d '"'; }

step "2a. the packaged CLI on an emulated Nehalem (qemu-x86_64 -cpu Nehalem: SSE4.2, no AVX)"
old_cpu="qemu-x86_64 -cpu Nehalem"
# The emulated CPU really lacks AVX: a program built for AVX2 dies on it.
echo 'int main(){ __builtin_cpu_init(); return __builtin_cpu_supports("avx2") ? 0 : 3; }' > "$work/avx2.c"
gcc -o "$work/avx2" "$work/avx2.c"
set +e; $old_cpu "$work/avx2"; code=$?; set -e
[ "$code" = 3 ] || fail "qemu's Nehalem reports AVX2 (exit $code)"
expected="$(LD_LIBRARY_PATH="$libs" best_variant "$old_cpu -E LD_LIBRARY_PATH=$libs")"
answer="$(ask_cli "$old_cpu" "$work/nehalem")" || { cat "$work/nehalem.stderr" >&2; fail "the CLI did not answer on Nehalem"; }
picked="$(picked_variant "$work/nehalem")"
step "   answer: $(echo "$answer" | tr '\n' ' ' | cut -c1-80); picked: $picked; ggml scores best: $expected"
[ -n "$(echo "$answer" | tr -d '[:space:]')" ] || fail "an empty answer on Nehalem"
[ "$picked" = "$expected" ] || fail "on Nehalem the CLI picked '$picked', ggml scores '$expected' best"
case "$picked" in x64|sse42) ;; *) fail "variant $picked needs more than a Nehalem has" ;; esac

step "2b. the packaged CLI on this CPU"
expected_here="$(LD_LIBRARY_PATH="$libs" best_variant "")"
answer="$(ask_cli "" "$work/native")" || { cat "$work/native.stderr" >&2; fail "the CLI did not answer here"; }
picked_here="$(picked_variant "$work/native")"
step "   answer: $(echo "$answer" | tr '\n' ' ' | cut -c1-80); picked: $picked_here; ggml scores best: $expected_here"
[ "$picked_here" = "$expected_here" ] || fail "here the CLI picked '$picked_here', ggml scores '$expected_here' best"
if grep -qw avx2 /proc/cpuinfo; then
  case "$picked_here" in x64|sse42|sandybridge) fail "this CPU has AVX2 yet runs the $picked_here variant" ;; esac
fi

if [ -e "$tree/usr/lib/sirocco/libggml-vulkan.so" ]; then
step "2c. the Vulkan backend file, on Mesa's software Vulkan device (lavapipe)"
# lavapipe is a Vulkan driver that runs on the CPU: the GPU backend file really loads and runs
# layers here. ggml-vulkan leaves CPU-type devices out unless named (GGML_VK_VISIBLE_DEVICES),
# so a user's machine with lavapipe and no GPU keeps running on the CPU backend.
[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || {
  step "   installing mesa-vulkan-drivers (lavapipe) and the Vulkan loader"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers libvulkan1 >/dev/null
}
ask_gpu() { # $1: data dir, $2: GPU layers; llama.cpp's own load lines in the log
  echo "What is the capital of France? Answer in one word." |
    SIROCCO_DATA_DIR="$1" RUST_LOG="info,llama_cpp_2=info" timeout 900 "$cli" chat --model "$model" --max-tokens 8 \
      --temperature 0 --context 512 --gpu-layers "$2" 2>"$1.stderr"
}
cpu_answer="$(ask_gpu "$work/vulkan-unnamed" 99)" || { cat "$work/vulkan-unnamed.stderr" >&2; fail "no answer with lavapipe present"; }
grep -q "libggml-vulkan.so" "$work"/vulkan-unnamed/logs/sirocco.*.log || fail "the Vulkan backend file was not loaded"
grep -q "Vulkan0 model buffer" "$work"/vulkan-unnamed/logs/sirocco.*.log && fail "lavapipe was used without being named"
gpu_answer="$(GGML_VK_VISIBLE_DEVICES=0 ask_gpu "$work/vulkan" 99)" || { cat "$work/vulkan.stderr" >&2; fail "no answer on lavapipe"; }
grep -Eq "offloaded ([0-9]+)/\1 layers to GPU" "$work"/vulkan/logs/sirocco.*.log || fail "not every layer went to the Vulkan device"
grep -q "Vulkan0 model buffer" "$work"/vulkan/logs/sirocco.*.log || fail "no model buffer on the Vulkan device"
step "   every layer on Vulkan0 ($(grep -ho 'Vulkan0 model buffer size = *[0-9.]* MiB' "$work"/vulkan/logs/sirocco.*.log | head -n 1)): $(echo "$gpu_answer" | tr '\n' ' ' | cut -c1-60)"
[ "$gpu_answer" = "$cpu_answer" ] || fail "greedy answers differ: Vulkan '$gpu_answer', CPU '$cpu_answer'"
else
  step "2c. no Vulkan backend file in this package (SIROCCO_PACKAGE_GPU=vulkan builds one): skipped"
fi

# --- 3. the .deb and the AppImage, each in a clean Debian 12 -----------------------------------------------------
bash "$repo/.ci/package-test-debootstrap.sh" deb "$deb" "$model" "$work" "$cache" "$mirror" ||
  fail "the .deb installed into a clean Debian 12 did not run"
bash "$repo/.ci/package-test-debootstrap.sh" appimage "$appimage" "$model" "$work" "$cache" "$mirror" ||
  fail "the AppImage did not run in a clean Debian 12"

# --- 4. the engine benchmark on the packaged build ------------------------------------------
step "4. engine benchmark: the packaged CLI ($picked_here) against llama-bench (native)"
tools="$(bash tests/bench/build-llama-tools.sh | tail -n 1)"
SIROCCO_DATA_DIR="$work/bench" "$cli" bench --model "$model" --llama-tools "$tools" | tee "$work/bench.txt" >&2
# The package must keep llama.cpp's speed: each ratio (the median of paired rounds) >= 0.98.
min_ratio="${SIROCCO_PACKAGE_MIN_RATIO:-0.98}"
python3 - "$work/bench.txt" "$min_ratio" <<'EOF' || fail "the packaged build is slower than llama.cpp's own tools"
import re, sys
lines = [l for l in open(sys.argv[1]) if "ratio (sirocco / llama-" in l]
if len(lines) < 3:
    sys.exit("package-test: FAIL: the benchmark printed no ratios against llama.cpp")
slow = [l.strip() for l in lines if float(re.search(r"\): ([0-9.]+)", l).group(1)) < float(sys.argv[2])]
for l in slow:
    print(f"package-test: FAIL: {l} (below {sys.argv[2]})", file=sys.stderr)
sys.exit(1 if slow else 0)
EOF

took=$(( $(date +%s) - started ))
step "all passed in $took s"
