#!/usr/bin/env bash
# End-to-end tests through the real webview. Needs the app and the CLI built
# (cargo build -p sirocco -p sirocco-cli) and the
# fixtures fetched; starts a virtual display when there is none.
set -euo pipefail
cd "$(dirname "$0")"
log=../../target/e2e/driver.log
mkdir -p "$(dirname "$log")" && touch "$log"
from=$(($(stat -c %s "$log") + 1))
status=0
if [ -z "${DISPLAY:-}" ]; then
  xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" node --test --test-concurrency=1 ./*.test.mjs || status=$?
else
  node --test --test-concurrency=1 ./*.test.mjs || status=$?
fi
if [ "$status" -ne 0 ]; then
  # What the app, the webview and the driver said that a failed step may come from.
  echo "# the app's and the webview's complaints during this run (target/e2e/driver.log):"
  tail -c "+$from" "$log" | grep -aiE 'panicked|crash|segmentation|WebProcess|Gtk-CRITICAL|GLib-CRITICAL|ERROR' \
    | grep -avE 'Connection refused|tcp connect error|Connection reset' | tail -40 | sed 's/^/#   /' || true
fi
exit "$status"
