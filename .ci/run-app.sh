#!/usr/bin/env bash
# Installs what is missing, builds Sirocco, fetches the default test model into models/,
# and opens the app window (under Xvfb when this machine has no display).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
bash .ci/install-deps.sh
bash tests/fixtures/fetch.sh --app
npm --workspace ui run build --silent
cargo build
export SIROCCO_MODELS_DIR="${SIROCCO_MODELS_DIR:-$repo/models}"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display here; starting Sirocco under Xvfb (screen :99 style, see xvfb-run -a)"
  exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" target/debug/sirocco-app
fi
exec target/debug/sirocco-app
