#!/usr/bin/env bash
# The conversation UI benchmark in the real webview (see ui.mjs). Needs the app and CLI built.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
bash tests/fixtures/fetch.sh >&2
npm --workspace ui run build --silent
cargo build --quiet
cargo build -p sirocco-cli --quiet
cd tests/e2e
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" node ../bench/ui.mjs
fi
exec node ../bench/ui.mjs
