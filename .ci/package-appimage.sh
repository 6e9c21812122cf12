#!/usr/bin/env bash
# Part of package.sh: the AppImage, made from the .deb's staged tree (the app, the CLI and
# llama.cpp's libraries) plus WebKitGTK and everything it links, so it runs on a Linux desktop
# without installing anything. Tauri's own AppImage bundler downloads linuxdeploy and its GTK
# plugin from GitHub at build time; this script does the same steps with Debian's tools.
#   usage: package-appimage.sh DEB_DATA_TREE OUT_FILE
#
# The runtime (the ELF at the head of the file that mounts the appended squashfs with FUSE, or
# extracts it with --appimage-extract-and-run) is AppImage's type2-runtime, built here from its
# source against Debian 12's static squashfuse and libfuse3, and cached:
#   SIROCCO_APPIMAGE_RUNTIME      a runtime binary to use as it is (e.g. type2-runtime's release)
#   SIROCCO_APPIMAGE_RUNTIME_SRC  a git checkout of AppImage/type2-runtime (default: cloned from
#                                 GitHub at the pinned commit below)
#
# What the AppImage does not carry, because a desktop has it and it must match the machine:
# glibc (so it needs glibc ≥ Debian 12's 2.36), the OpenGL/EGL/DRM stack (the GPU driver's),
# X11's client libraries and fontconfig/freetype (the desktop's fonts and their configuration).
set -euo pipefail
tree="$(realpath "$1")" out_file="$(realpath -m "$2")"
repo="$(cd "$(dirname "$0")/.." && pwd)"
runtime_commit=caf24f9f712084686bfc24a70b75e50df0aefb9c
cache="${XDG_CACHE_HOME:-$HOME/.cache}/sirocco/appimage"
work="$(dirname "$(dirname "$out_file")")/appimage"  # beside the output folder
appdir="$work/Sirocco.AppDir"
multiarch="$(gcc -print-multiarch)"
libdir="/usr/lib/$multiarch"
step() { echo "package-appimage: $*" >&2; }
fail() { echo "package-appimage: FAIL: $*" >&2; exit 1; }

need=()
command -v mksquashfs >/dev/null || need+=(squashfs-tools)
[ -e /usr/lib/"$multiarch"/libsquashfuse_ll.a ] || need+=(libsquashfuse-dev)
[ -e /usr/lib/"$multiarch"/libfuse3.a ] || need+=(libfuse3-dev)
for lib in libzstd-dev zlib1g-dev liblzma-dev liblz4-dev liblzo2-dev; do
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
if [ ${#need[@]} -gt 0 ]; then
  step "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# 1. The runtime.
runtime="${SIROCCO_APPIMAGE_RUNTIME:-}"
if [ -z "$runtime" ]; then
  runtime="$cache/runtime-${runtime_commit:0:12}"
  if [ ! -x "$runtime" ]; then
    step "building AppImage's type2-runtime ${runtime_commit:0:12}"
    src="$(mktemp -d)"
    if [ -n "${SIROCCO_APPIMAGE_RUNTIME_SRC:-}" ]; then
      git -C "$SIROCCO_APPIMAGE_RUNTIME_SRC" archive "$(git -C "$SIROCCO_APPIMAGE_RUNTIME_SRC" rev-parse HEAD)" src/runtime | tar -x -C "$src"
    else
      git clone -q https://github.com/AppImage/type2-runtime "$src/clone" &&
        git -C "$src/clone" archive "$runtime_commit" src/runtime | tar -x -C "$src" ||
        fail "cannot fetch AppImage/type2-runtime; set SIROCCO_APPIMAGE_RUNTIME_SRC or SIROCCO_APPIMAGE_RUNTIME"
    fi
    # Debian 12's squashfuse (0.1.105) installs its library but not fuseprivate.h, whose
    # option-parsing declarations the runtime uses; its sqfs_usage takes two arguments.
    mkdir -p "$src/include/squashfuse"
    cp "$repo/.ci/appimage/fuseprivate.h" "$src/include/squashfuse/fuseprivate.h"
    sed -i 's/sqfs_usage(argv\[0\], true, true)/sqfs_usage(argv[0], true)/' "$src/src/runtime/runtime.c"
    (cd "$src/src/runtime" && gcc -std=gnu99 -Os -D_FILE_OFFSET_BITS=64 -DGIT_COMMIT="\"${runtime_commit:0:7}\"" \
      -I"$src/include" -I/usr/include/squashfuse -I/usr/include/fuse3 -T data_sections.ld \
      -ffunction-sections -fdata-sections -Wl,--gc-sections -static runtime.c \
      -lsquashfuse -lsquashfuse_ll -lzstd -lz -llzma -llz4 -llzo2 -lfuse3 -o runtime 2>"$src/build.log") ||
      { cat "$src/build.log" >&2; fail "the runtime does not build"; }
    strip "$src/src/runtime/runtime"
    # The type 2 AppImage magic: "AI" and the type, at offset 8 of the ELF header's padding.
    printf 'AI\002' | dd of="$src/src/runtime/runtime" bs=1 seek=8 count=3 conv=notrunc status=none
    mkdir -p "$cache"
    install -m 755 "$src/src/runtime/runtime" "$runtime"
    rm -rf "$src"
  fi
fi
[ "$(dd if="$runtime" bs=1 skip=8 count=3 status=none | od -An -c | tr -d ' ')" = 'AI002' ] ||
  fail "$runtime is not an AppImage type 2 runtime"

# 2. The AppDir: the package's own files…
step "making the AppDir"
rm -rf "$work" && mkdir -p "$appdir"
cp -a "$tree/usr" "$appdir/usr"
cp "$tree/usr/share/applications/Sirocco.desktop" "$appdir/sirocco-app.desktop"
cp "$tree/usr/share/icons/hicolor/512x512/apps/sirocco-app.png" "$appdir/sirocco-app.png"
ln -s sirocco-app.png "$appdir/.DirIcon"
# …WebKitGTK's helper processes, which it starts by their compiled-in folder…
webkit="$libdir/webkit2gtk-4.1"
mkdir -p "$appdir$webkit" "$appdir/usr/lib/bundled"
for helper in WebKitWebProcess WebKitNetworkProcess WebKitGPUProcess injected-bundle/libwebkit2gtkinjectedbundle.so; do
  [ -e "$webkit/$helper" ] || continue
  mkdir -p "$(dirname "$appdir$webkit/$helper")"
  cp -L "$webkit/$helper" "$appdir$webkit/$helper"
done
# …GTK's image loaders (icons of the file chooser) and settings schemas (it aborts without them)…
loaders="$(pkg-config --variable=gdk_pixbuf_moduledir gdk-pixbuf-2.0)"
mkdir -p "$appdir$loaders" "$appdir/usr/share/sirocco"
cp -L "$loaders"/libpixbufloader-svg.so "$appdir$loaders/"
GDK_PIXBUF_MODULEDIR="$appdir$loaders" "$libdir/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders" | sed "s|\"$appdir|\"@APPDIR@|" >"$appdir/usr/share/sirocco/pixbuf-loaders.cache.in"
mkdir -p "$appdir/usr/share/glib-2.0/schemas"
cp /usr/share/glib-2.0/schemas/org.gtk.Settings.*.gschema.xml "$appdir/usr/share/glib-2.0/schemas/"
glib-compile-schemas "$appdir/usr/share/glib-2.0/schemas"
# …and every library all of these link against, but those a desktop has to provide itself —
# the GPU drivers' entry points among them (the Vulkan loader, NVIDIA's libcuda): a GPU backend
# file loads only where the machine has them, and is skipped otherwise.
excluded='^(ld-linux.*|libc|libm|libdl|libpthread|librt|libresolv|libutil|libnsl|libanl|libGL|libEGL|libGLESv2|libGLX|libGLdispatch|libOpenGL|libdrm|libgbm|libX11|libX11-xcb|libxcb|libfontconfig|libfreetype|libvulkan|libcuda)\.so'
elfs="$(find "$appdir/usr" -type f \( -perm -u+x -o -name '*.so*' \) -exec sh -c 'head -c 4 "$1" | grep -q ELF && echo "$1"' _ {} \;)"
for elf in $elfs; do
  LD_LIBRARY_PATH="$appdir/usr/lib/sirocco" ldd "$elf" | sed -n 's/^\s*\(\S*\) => \(\/\S*\) .*/\1 \2/p'
done | sort -u | while read -r name path; do
  [[ "$name" =~ $excluded ]] && continue
  case "$path" in "$appdir"/*) continue ;; esac
  [ -e "$appdir/usr/lib/bundled/$name" ] || cp -L "$path" "$appdir/usr/lib/bundled/$name"
done
# Each program and library finds the bundled ones by its RUNPATH, not by LD_LIBRARY_PATH, which
# would reach the programs Sirocco starts (MCP servers, the file manager) and break them.
command -v patchelf >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf >&2
for elf in $elfs "$appdir"/usr/lib/bundled/*; do
  dir="$(dirname "$elf")"
  patchelf --set-rpath "\$ORIGIN/$(realpath -m --relative-to="$dir" "$appdir/usr/lib/bundled"):\$ORIGIN/$(realpath -m --relative-to="$dir" "$appdir/usr/lib/sirocco")" "$elf"
done
missing="$(for elf in $elfs "$appdir"/usr/lib/bundled/*; do ldd "$elf" | grep 'not found' | sed "s|^|$elf: |" || true; done)"
[ -z "$missing" ] || fail "unresolved libraries: $missing"
# WebKit finds its helpers only by the folder compiled into it (WEBKIT_EXEC_PATH is read by
# developer builds alone): the bundled copy names it relative ("/usr" → "././", same length)
# and AppRun starts the app in the AppDir's usr/.
python3 - "$appdir/usr/lib/bundled/libwebkit2gtk-4.1.so.0" "$webkit" <<'EOF'
import sys
path, folder = sys.argv[1], sys.argv[2].encode()
data = open(path, "rb").read()
relative = b"././" + folder[len(b"/usr"):]
count = 0
for old in (folder + b"\0", folder + b"/injected-bundle/\0"):
    new = relative + old[len(folder):]
    assert len(new) == len(old)
    count += data.count(old)
    data = data.replace(old, new)
if count < 2:
    sys.exit(f"{path}: WebKit's helper folder found {count} times, expected 2")
open(path, "wb").write(data)
EOF

cat >"$appdir/AppRun" <<'EOF'
#!/bin/sh
# Sirocco's AppImage entry: the app, or its command line with `cli` as the first argument.
APPDIR="${APPDIR:-$(dirname "$(readlink -f "$0")")}"
if [ "${1:-}" = cli ]; then
  shift
  exec "$APPDIR/usr/bin/sirocco" "$@"
fi
# GTK's settings schemas (GLib looks under each XDG_DATA_DIRS folder); the desktop's stay after.
export XDG_DATA_DIRS="$APPDIR/usr/share:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
# GTK's image loaders are listed with their paths, which depend on where the AppImage is mounted.
loaders="${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/sirocco-$(basename "$APPDIR")-pixbuf-loaders.cache"
sed "s|@APPDIR@|$APPDIR|g" "$APPDIR/usr/share/sirocco/pixbuf-loaders.cache.in" >"$loaders"
export GDK_PIXBUF_MODULE_FILE="$loaders"
# WebKit's helpers are named relative to this folder (see package-appimage.sh).
cd "$APPDIR/usr" || exit 1
exec "$APPDIR/usr/bin/sirocco-app" "$@"
EOF
chmod 755 "$appdir/AppRun"

# 3. The file: the runtime, then the squashfs.
step "compressing ($(du -sh "$appdir" | cut -f1) in the AppDir)"
mksquashfs "$appdir" "$work/fs.sqfs" -root-owned -noappend -comp zstd -quiet >&2
cat "$runtime" "$work/fs.sqfs" >"$out_file.part"
chmod 755 "$out_file.part"
mv "$out_file.part" "$out_file"
rm -f "$work/fs.sqfs"
step "$(basename "$out_file"): $(du -h "$out_file" | cut -f1)"
