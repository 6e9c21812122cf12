#!/usr/bin/env bash
# Prints the folder of the llama-cpp-sys-2 crate Cargo.lock pins (its `llama.cpp/` is the exact
# llama.cpp the app links). The scripts that build llama.cpp's tools or backend files beside the
# app (tests/bench/build-llama-tools.sh, .ci/build-gpu-backends.sh, .ci/device/prepare.sh) all
# start from it; its name (llama-cpp-sys-2-<version>) keys their caches.
set -euo pipefail
cd "$(dirname "$0")/.."
manifest="$(cargo metadata --format-version 1 2>/dev/null | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(next(p["manifest_path"] for p in m["packages"] if p["name"] == "llama-cpp-sys-2"))')"
dirname "$manifest"
