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
bench() { :; }

# ---- The web page: npm libraries copied into web/vendor/, a local server with cross-origin isolation ----
# node_modules path -> web/vendor/ name; the page imports these ES modules.
VENDOR_FILES="gifenc/dist/gifenc.esm.js:gifenc.js fflate/esm/browser.js:fflate.js
    mediabunny/dist/bundles/mediabunny.min.mjs:mediabunny.js"
vendor() {
    [ -d node_modules/gifenc ] || deps
    mkdir -p web/vendor
    local pair src dst
    for pair in $VENDOR_FILES; do
        src=node_modules/${pair%%:*} dst=web/vendor/${pair##*:}
        if [ ! -f "$dst" ] || [ "$src" -nt "$dst" ]; then cp "$src" "$dst"; echo "    vendored $src"; fi
    done
}

PORT=${PORT:-8080}
# serve.json sets COOP/COEP/CORP, so the page is cross-origin isolated and the engine can use threads.
serve() {
    [ -f web/wasm/kineto-simd.js ] || wasm
    vendor
    [ -f web/wasm/kineto-world.kin ] || echo "warning: no web/wasm/kineto-world.kin (weights/kineto-world.kin missing); the page cannot load a model" >&2
    say "Kineto at http://localhost:$PORT/  (Ctrl+C stops)"
    exec node_modules/.bin/serve --config "$ROOT/serve.json" --listen "tcp://127.0.0.1:$PORT" \
        --no-clipboard --no-port-switching web
}

test_web_browser() {
    vendor
    [ -f web/wasm/kineto-simd.js ] || wasm
    say "browser tests (tests/browser, Debian chromium)"
    node --test --test-concurrency=1 tests/browser/
}

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
