#!/usr/bin/env bash
# Download throughput: `sirocco pull` (hf-hub ranged stream, sha256, HF cache layout) against
# curl fetching the same file from the same fake hub (following the CDN redirect, writing to the
# same disk), interleaved rounds, medians; over loopback at full speed and over a link limited
# to LINK MB/s (the hub paces its responses). Not a test: run it by hand.
#   bash tests/bench/download.sh [size-MiB] [rounds] [link-MB/s]
set -euo pipefail
repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo_root"
size_mib="${1:-512}"
rounds="${2:-5}"
link="${3:-200}"
cargo build -p sirocco-cli --quiet
tmp="$(mktemp -d)"
trap 'kill $hub_pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
head -c "$((size_mib << 20))" /dev/urandom > "$tmp/bench-Q4_K_M.gguf"
cat > "$tmp/repos.json" <<JSON
[{"id": "bench/Throughput-GGUF", "files": [{"path": "bench-Q4_K_M.gguf", "source": "$tmp/bench-Q4_K_M.gguf"}]}]
JSON
bytes=$((size_mib << 20))
rate() { python3 -c "import sys; print(f'{$bytes / float(sys.argv[1]) / 1e6:.1f}')" "$1"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
hub_pid=""
measure() { # $1: label, $2: hub rate limit (0 = none)
  [ -n "$hub_pid" ] && kill "$hub_pid" && wait "$hub_pid" 2>/dev/null || true
  rm -f "$tmp/ready"
  python3 tests/fakehub/fakehub.py --repos "$tmp/repos.json" --forever --rate "$2" > "$tmp/ready" &
  hub_pid=$!
  while ! grep -q READY "$tmp/ready" 2>/dev/null; do sleep 0.05; done
  api="$(awk '{print $2}' "$tmp/ready")"
  url="$api/bench/Throughput-GGUF/resolve/main/bench-Q4_K_M.gguf"
  # Warm the page cache and the hub's sha256 of the file.
  curl -sfL -o /dev/null "$api/api/models/bench/Throughput-GGUF/tree/main"
  ours=(); theirs=()
  for round in $(seq 1 "$rounds"); do
    rm -f "$tmp/curl.out"
    t0=$(date +%s.%N); curl -sfL -o "$tmp/curl.out" "$url"; t1=$(date +%s.%N)
    theirs+=("$(python3 -c "print($t1 - $t0)")")
    rm -rf "$tmp/hf"
    t0=$(date +%s.%N)
    HF_ENDPOINT="$api" HF_HOME="$tmp/hf" target/debug/sirocco pull bench/Throughput-GGUF --quant Q4_K_M >/dev/null 2>&1
    t1=$(date +%s.%N)
    ours+=("$(python3 -c "print($t1 - $t0)")")
  done
  c=$(median "${theirs[@]}"); s=$(median "${ours[@]}")
  echo "$1: curl download: $(rate "$c") MB/s"
  echo "$1: sirocco download (sha256 verified): $(rate "$s") MB/s"
  echo "$1: download ratio (sirocco / curl): $(python3 -c "print(f'{$c / $s:.3f}')")"
}
echo "file: ${size_mib} MiB, rounds: $rounds (medians), $(nproc) cores"
measure "loopback, unlimited" 0
measure "link of $link MB/s" "$link"
