#!/usr/bin/env bash
# End-to-end tests through the real webview. Needs the app and the CLI built
# (cargo build -p sirocco -p sirocco-cli) and the
# fixtures fetched; starts a virtual display when there is none.
set -euo pipefail
cd "$(dirname "$0")"
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" node --test --test-concurrency=1 ./*.test.mjs
fi
exec node --test --test-concurrency=1 ./*.test.mjs
