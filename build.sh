#!/usr/bin/env bash
# Kineto's build: one function per target.
#   ./build.sh            native library, CLI and tests, then the WebAssembly modules
#   ./build.sh test       build everything and run every test suite (what CI runs)
#   ./build.sh serve      build what is missing and serve web/ on localhost with COOP/COEP headers
#   ./build.sh bench      the benchmark table (bench/results/)
#   ./build.sh deps       install what a fresh Debian machine lacks (apt-get, npm)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
BUILD=$ROOT/build
PY=/usr/bin/python3
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

APT_PACKAGES="build-essential python3-torch python3-numpy python3-pil libopenblas0-pthread libstb-dev libgif-dev emscripten nodejs npm chromium imagemagick clang libclang-rt-14-dev valgrind"

deps() {
    local missing=()
    for p in $APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
    fi
    if [ ! -d node_modules ] || [ package.json -nt node_modules ]; then
        say "npm ci"
        npm ci --no-audit --no-fund --loglevel=error
        touch node_modules
    fi
}

native() { :; }      # filled in below
wasm() { :; }
test_all() { :; }
serve() { :; }
bench() { :; }

case "${1:-all}" in
    deps) deps ;;
    native) native ;;
    wasm) wasm ;;
    all) deps; native; wasm ;;
    test) test_all ;;
    serve) serve ;;
    bench) bench ;;
    *) echo "usage: $0 [all|native|wasm|test|serve|bench|deps]" >&2; exit 2 ;;
esac
