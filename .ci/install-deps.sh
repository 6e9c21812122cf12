#!/usr/bin/env bash
# Installs what building, running and testing Sirocco needs on Debian 12 (root or sudo).
# Idempotent: a second run only checks.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

packages=(
  build-essential pkg-config curl file
  libwebkit2gtk-4.1-dev libssl-dev librsvg2-dev   # Tauri 2 / WebKitGTK
  cmake clang libclang-dev ccache                 # llama.cpp and its bindings
  xvfb xauth webkit2gtk-driver imagemagick        # headless window, E2E driver, screenshots
  tmux                                            # the terminal the CLI tests type into
  systemd                                         # `sirocco service`'s unit, checked by systemd-analyze
  libayatana-appindicator3-1 desktop-file-utils   # the tray icon; autostart entries checked
  python3 python3-pip python3-venv                # test-model fixtures
  dbus-daemon gnome-keyring libglib2.0-bin python3-gi  # a desktop session for tests: keyring, file manager
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "deps: Rust is missing: install it with rustup (https://rustup.rs)"; exit 1; }
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "deps: Node.js 20 or newer is needed (Vite 8); install it and run this again"; exit 1
fi

if ! command -v tauri-driver >/dev/null; then
  echo "deps: installing tauri-driver (WebDriver bridge for end-to-end tests)"
  cargo install tauri-driver --locked --version 2.1.0 --quiet
fi

# npm packages: reinstall only when the lock file changed.
lock_sum="$(sha256sum package-lock.json | cut -c1-16)"
if [ "$(cat node_modules/.sirocco-lock 2>/dev/null)" != "$lock_sum" ]; then
  echo "deps: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.sirocco-lock
fi
