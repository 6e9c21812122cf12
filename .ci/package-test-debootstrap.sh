#!/usr/bin/env bash
# Part 3 of package-test.sh, for each package a user runs without building anything:
#   deb       the .deb installed with apt into a clean Debian 12 root (debootstrap
#             --variant=minbase, cached as a tarball), then /usr/bin/sirocco-app;
#   appimage  the AppImage copied into another clean root that has only what a desktop has
#             (glibc, X11's client libraries, the GL/EGL stack, fontconfig and a font), then run
#             as a user runs it (mounted with FUSE).
# Either way the app runs there under Xvfb: it opens its window, starts its server at launch (as
# its kept settings say), loads SmolLM2 from its library on the first request and answers; its
# log names its CPU variant.
#   usage: package-test-debootstrap.sh deb|appimage FILE MODEL WORK CACHE MIRROR
set -euo pipefail
kind="$1" file="$2" model="$3" work="$4" cache="$5" mirror="$6"
root="$work/debian-$kind"
step() { echo "package-test: $*" >&2; }
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }

mkdir -p "$cache/archives/partial"
if [ ! -s "$cache/bookworm-minbase.tar" ]; then
  step "3. making a clean Debian 12 root (debootstrap; cached in $cache)"
  tmp="$(mktemp -d)"
  debootstrap --variant=minbase bookworm "$tmp/root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
  tar -C "$tmp/root" -cf "$cache/bookworm-minbase.tar.part" .
  mv "$cache/bookworm-minbase.tar.part" "$cache/bookworm-minbase.tar"
  rm -rf "$tmp"
fi
rm -rf "$root" && mkdir -p "$root"
tar -C "$root" -xf "$cache/bookworm-minbase.tar"

mounted=()
app_pid="" xvfb_pid=""
cleanup() {
  [ -z "$app_pid" ] || kill "$app_pid" 2>/dev/null || true
  [ -z "$app_pid" ] || wait "$app_pid" 2>/dev/null || true
  [ -z "$xvfb_pid" ] || kill "$xvfb_pid" 2>/dev/null || true
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -R "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true; done
}
trap cleanup EXIT
mount_in() { # $1: mount options…, last: the target under the root
  local target="${*: -1}"
  mkdir -p "$target"
  mount "${@:1:$#-1}" "$target"
  mounted+=("$target")
}
mount_in -t proc proc "$root/proc"
mount_in -t sysfs sys "$root/sys"
mount_in --rbind /dev "$root/dev"
mount_in --bind "$cache/archives" "$root/var/cache/apt/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
in_root apt-get update -qq >"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log" >&2; fail "apt-get update"; }
# A GPU backend file (libggml-vulkan.so, libggml-cuda.so) may lack its driver's library on a
# machine without that GPU: ggml then skips the file. Only those lines are let through.
optional_gpu() { grep -v -E '/libggml-(vulkan|cuda)\.so:[[:space:]]+(libvulkan\.so\.1|libcuda\.so\.1) => not found' || true; }
if [ "$kind" = deb ]; then
step "3a. installing $(basename "$file") with apt into a clean Debian 12 root"
cp "$file" "$root/root/sirocco.deb"
in_root apt-get install -y -qq --no-install-recommends /root/sirocco.deb >>"$work/apt.log" 2>&1 ||
  { tail -n 30 "$work/apt.log" >&2; fail "apt-get install sirocco.deb"; }
in_root dpkg -s sirocco | grep -q "Status: install ok installed" || fail "dpkg does not list sirocco as installed"
step "   installed: $(in_root dpkg-query -W -f='${Package} ${Version}, ${Installed-Size} KiB' sirocco) with $(grep -c '^Setting up' "$work/apt.log") packages"
# Every program and library the package installed finds what it links against.
missing="$(in_root sh -c 'for f in /usr/bin/sirocco /usr/bin/sirocco-app /usr/lib/sirocco/*.so*; do ldd "$f" | sed -n "s|^|$f: |; /not found/p"; done' | optional_gpu)"
[ -z "$missing" ] || fail "libraries the package does not depend on:
$missing"
in_root /usr/bin/sirocco --version >/dev/null || fail "the installed CLI does not run"
app=/usr/bin/sirocco-app
else
step "3b. $(basename "$file") in a clean Debian 12 root with only a desktop's libraries"
desktop="libx11-6 libx11-xcb1 libxcb1 libgl1 libegl1 libgles2 libgbm1 libdrm2 libfontconfig1 libfreetype6 fonts-dejavu-core"
in_root apt-get install -y -qq --no-install-recommends $desktop >>"$work/apt.log" 2>&1 ||
  { tail -n 30 "$work/apt.log" >&2; fail "apt-get install $desktop"; }
step "   the root has: $desktop ($(grep -c '^Setting up' "$work/apt.log") packages)"
cp "$file" "$root/root/Sirocco.AppImage"
# Every program and library inside finds what it links against, there.
in_root sh -c 'cd /tmp && /root/Sirocco.AppImage --appimage-extract >/dev/null' || fail "the AppImage does not extract"
missing="$(in_root sh -c 'cd /tmp/squashfs-root && for f in $(find usr -type f -name "*.so*") usr/bin/* usr/lib/*/webkit2gtk-4.1/WebKit*Process; do ldd "$f" | sed -n "s|^|$f: |; /not found/p"; done' | optional_gpu)"
[ -z "$missing" ] || fail "libraries neither in the AppImage nor on a desktop:
$missing"
rm -rf "$root/tmp/squashfs-root"
in_root /root/Sirocco.AppImage cli --version >/dev/null || fail "the AppImage's CLI does not run"
app=/root/Sirocco.AppImage
fi

# The user's data: SmolLM2 in the models folder, the server started at launch on a free port.
data="$root/root/.local/share/dev.sirocco.app"
mkdir -p "$data/models"
cp "$model" "$data/models/"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$data/settings.json" <<EOF
{"server": {"port": $port, "lan": false, "cors_origins": [], "on_demand": true, "idle_minutes": 0, "start_at_launch": true}}
EOF

# A display: Xvfb on this machine, its socket shared with the root.
display=":$((90 + RANDOM % 9))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 100); do [ -S "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
[ -S "/tmp/.X11-unix/X${display#:}" ] || fail "Xvfb did not start"
mount_in --bind /tmp/.X11-unix "$root/tmp/.X11-unix"

step "   starting $app under Xvfb"
mkdir -p "$root/tmp/run" && chmod 700 "$root/tmp/run"
chroot "$root" env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 DISPLAY="$display" XDG_RUNTIME_DIR=/tmp/run \
  "$app" >"$work/app-$kind.log" 2>&1 &
app_pid=$!
# The server answers once the app has started (curl retries refused connections for 120 s).
models="$(curl -sS --retry 120 --retry-connrefused --retry-delay 1 "http://127.0.0.1:$port/v1/models")" ||
  { tail -n 30 "$work/app-$kind.log" >&2; fail "the $kind app's server did not start"; }
id="$(echo "$models" | python3 -c 'import json,sys; print(next(m["id"] for m in json.load(sys.stdin)["data"] if "SmolLM2" in m["id"]))')" ||
  fail "SmolLM2 is not among the $kind app's models: $models"
reply="$(curl -sS --max-time 300 "http://127.0.0.1:$port/v1/chat/completions" -H 'content-type: application/json' \
  -d "{\"model\": \"$id\", \"max_tokens\": 8, \"temperature\": 0, \"messages\": [{\"role\": \"user\", \"content\": \"What is the capital of France?\"}]}")"
content="$(echo "$reply" | python3 -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["message"]["content"])')" ||
  fail "no answer from the $kind app: $reply"
[ -n "$(echo "$content" | tr -d '[:space:]')" ] || fail "an empty answer from the $kind app"
step "   the $kind app answered: $(echo "$content" | tr '\n' ' ' | cut -c1-80)"

window="$(DISPLAY="$display" xdotool search --name '^Sirocco$' | head -n 1)" || true
[ -n "$window" ] || fail "the $kind app has no window named Sirocco"
# The web view has painted the page: the screen has more than the empty window's few colours.
shot="$work/$kind-window.png" colours=0
for _ in $(seq 120); do
  DISPLAY="$display" import -window root "$shot"
  colours="$(identify -format %k "$shot")"
  [ "$colours" -gt 64 ] && break
  sleep 0.5
done
[ "$colours" -gt 64 ] || fail "the $kind app's window stays empty ($colours colours; $shot)"
step "   its window shows the app (screenshot: $shot, $colours colours)"
variant="$(grep -ho 'cpu_backend="\?[a-z0-9_]*' "$data"/logs/sirocco.*.log | head -n 1 | cut -d= -f2 | tr -d '"')"
[ -n "$variant" ] || fail "the $kind app's log does not name its CPU backend"
step "   its log ($(ls "$data"/logs/)) names the CPU variant: $variant"
[ "$variant" != native ] || fail "the $kind app runs a native (non-portable) backend"
# What the .deb recommends for its Vulkan file is all that file lacked: with it installed, the
# file finds every library it links against.
if [ "$kind" = deb ] && [ -f "$root/usr/lib/sirocco/libggml-vulkan.so" ]; then
  in_root apt-get install -y -qq --no-install-recommends $(in_root dpkg-query -W -f='${Recommends}' sirocco | tr -d ',') \
    >>"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log" >&2; fail "installing what the .deb recommends"; }
  missing="$(in_root ldd /usr/lib/sirocco/libggml-vulkan.so | grep 'not found' || true)"
  [ -z "$missing" ] || fail "the Vulkan file lacks libraries even with what the .deb recommends: $missing"
  step "   with what it recommends ($(in_root dpkg-query -W -f='${Recommends}' sirocco)), the Vulkan file links completely"
fi
