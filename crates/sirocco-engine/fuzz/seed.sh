#!/usr/bin/env bash
# Seeds the fuzz corpus with the first 64 KiB (the header) of each test model, and small files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="${SIROCCO_FIXTURES:-$HOME/.cache/sirocco/fixtures}"
corpus="$here/corpus/gguf_validator"
mkdir -p "$corpus"
for f in "$fixtures"/*.gguf; do
  head -c 65536 "$f" > "$corpus/$(basename "$f" .gguf).head"
  # A whole small model too, so accepted inputs are in the corpus.
  [ "$(stat -c %s "$f")" -lt 3000000 ] && cp "$f" "$corpus/$(basename "$f")"
done
echo "$corpus"
