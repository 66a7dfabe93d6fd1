#!/usr/bin/env bash
# Kineto's build: one function per target.
#   ./build.sh            native library, CLI and tests, then the WebAssembly modules
#   ./build.sh test       build everything and run every test suite (what CI runs)
#   ./build.sh test-c     the native build, the C tests and the smoke training run only
#   ./build.sh test-ops   the kernel tests natively and in WebAssembly, compared bit for bit
#   ./build.sh test-fuzz  each libFuzzer harness for FUZZ_SECONDS (25); test-sanitizers: ASan/UBSan, TSan, valgrind
#   ./build.sh package    the npm package build/kineto-<version>.tgz (not published from here)
#   ./build.sh single     build/kineto.html: the whole page, engine and weights in one file that works from disk
#   ./build.sh serve      build what is missing and serve web/ on localhost with COOP/COEP headers (the page is web/app/)
#   ./build.sh bench      the benchmark table (bench/results/)
#   ./build.sh deps       install what a fresh Debian machine lacks (apt-get, npm)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
BUILD=$ROOT/build
PY=/usr/bin/python3
# Kineto's one version (package.json's): the npm package, the page's footer and `kineto --version`.
VERSION=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Debian packages by what needs them. Every target installs the missing packages of its groups before
# it runs any tool, so each target works first time on a bare machine.
declare -A PACKAGES=(
    [native]="build-essential libstb-dev libgif-dev"
    [wasm]="emscripten nodejs libstb-dev"
    [web]="nodejs npm"
    [train]="python3-torch python3-numpy python3-pil libopenblas0-pthread python3-pytest imagemagick"
    [sanitize]="clang libclang-rt-14-dev valgrind python3-pil"
    [browser]="chromium ffmpeg"
)
ALL_GROUPS="native wasm web train sanitize browser"

# deps GROUP...: install what those groups lack (apt-get), and the npm packages for web.
deps() {
    local missing=() group p
    for group in "$@"; do
        for p in ${PACKAGES[$group]}; do
            # node and npm may come from another packaging of Node.js (whose nodejs conflicts with
            # Debian's npm): a working command is enough
            case $p in nodejs|npm) command -v "${p%js}" >/dev/null && continue ;; esac
            case " ${missing[*]} " in *" $p "*) continue ;; esac
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
        done
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
    fi
    case " $* " in *" web "*)
        if [ ! -d node_modules ] || [ package.json -nt node_modules ]; then
            say "npm ci"
            npm ci --no-audit --no-fund --loglevel=error
            touch node_modules
        fi ;;
    esac
}

# ---- Native: the engine as build/libkineto.a, the CLI build/kineto, the C tests build/test_*; the
# same again with the scalar kernels (-DKINETO_NO_SIMD) under build/nosimd/ ----
CC=${CC:-cc}
# -ffp-contract=off: no fused multiply-adds, so native results equal the WebAssembly build's bit for bit.
NATIVE_CFLAGS=(-std=c11 -O2 -g -Wall -Wextra -Werror=implicit-function-declaration -ffp-contract=off -pthread
    -Iinclude -Isrc)
ENGINE_SOURCES="$(ls src/*.c src/model/*.c src/ops/*.c 2>/dev/null | tr '\n' ' ')"
# src/io/: the image files the CLI and the WebAssembly build read (not the engine's: it takes pixels)
CLI_SOURCES="$(ls src/cli/*.c src/io/*.c | tr '\n' ' ')"
# tests/<what they test>/test_*.c; each builds to build/test_* (and build/nosimd/test_*)
C_TESTS="tests/engine/test_parity.c tests/engine/test_vae.c tests/engine/test_api.c tests/engine/test_clip.c tests/engine/test_tokenizer.c tests/weights/test_weights.c
    tests/ops/test_ops.c tests/reliability/test_reliability.c"

# native_variant OUT_DIR EXTRA_CFLAGS...: library, CLI and tests into OUT_DIR. With -DKN_DISPATCH_AVX2,
# src/ops/kernels_avx2.c alone is compiled with -mavx2 (src/ops/isa.h).
native_variant() {
    local out=$1; shift
    local flags=("${NATIVE_CFLAGS[@]}" "$@") objs=() src obj isa
    mkdir -p "$out/obj"
    for src in $ENGINE_SOURCES; do
        obj=$out/obj/$(echo "${src%.c}" | tr / _).o
        isa=""
        [[ $src == src/ops/kernels_avx2.c && " $* " == *" -DKN_DISPATCH_AVX2 "* ]] && isa=-mavx2
        nice "$CC" "${flags[@]}" $isa -c "$src" -o "$obj"
        objs+=("$obj")
    done
    rm -f "$out/libkineto.a"
    ar rcs "$out/libkineto.a" "${objs[@]}"
    # -fwrapv: stb_image (src/io/) overflows int on corrupt JPEGs; wrapping is what WebAssembly does
    nice "$CC" "${flags[@]}" -fwrapv -DKINETO_VERSION="\"$VERSION\"" $CLI_SOURCES "$out/libkineto.a" -lgif -lm -o "$out/kineto"
    for src in $C_TESTS; do
        [ -f "$src" ] || continue
        nice "$CC" "${flags[@]}" "$src" "$out/libkineto.a" -lm -o "$out/$(basename "${src%.c}")"
    done
}

# The SIMD build's instruction set. On x86 by default SSE2, which every x86-64 CPU has, plus the
# kernels whose speed depends on the vector width again for AVX2, chosen at run time: a binary built
# here runs on any x86-64 CPU, at AVX2 speed where there is AVX2 (256-bit, no FMA, so the same bits
# as SSE2 and WebAssembly). NATIVE_ISA=sse2 builds SSE2 alone; NATIVE_ISA=avx2 builds everything
# for AVX2, which faults on a CPU without it.
host_has() {   # host_has MACRO: the compiler targets a CPU with it (the whole macro list: no early pipe exit)
    case "$("$CC" "${@:2}" -dM -E -x c /dev/null 2>/dev/null)" in *"$1"*) return 0 ;; esac
    return 1
}
case "${NATIVE_ISA:-}" in
    "") if host_has __x86_64__; then
            NATIVE_ISA_FLAGS=(-DKN_DISPATCH_AVX2) NATIVE_ISA_SAY="SSE2, and AVX2 where the CPU has it (chosen at run time)"
        else
            NATIVE_ISA_FLAGS=() NATIVE_ISA_SAY="the vector back end this CPU's compiler targets (src/ops/simd.h)"
        fi ;;
    sse2) NATIVE_ISA_FLAGS=(-msse2) NATIVE_ISA_SAY="SSE2 only (NATIVE_ISA=sse2)" ;;
    avx2) NATIVE_ISA_FLAGS=(-mavx2) NATIVE_ISA_SAY="AVX2 only (NATIVE_ISA=avx2): faults on a CPU without AVX2" ;;
    *) echo "error: NATIVE_ISA='$NATIVE_ISA'; use sse2 or avx2, or leave it unset" >&2; exit 2 ;;
esac

native() {
    say "native build (build/): kernels for $NATIVE_ISA_SAY"
    native_variant "$BUILD" "${NATIVE_ISA_FLAGS[@]}"
    say "native build (build/nosimd/, scalar kernels)"
    native_variant "$BUILD/nosimd" -DKINETO_NO_SIMD
}

# Every C test, SIMD and scalar; the ops test also runs with two threads.
test_c() {
    local dir src t
    for dir in "$BUILD" "$BUILD/nosimd"; do
        for src in $C_TESTS; do
            t=$(basename "${src%.c}")
            [ -x "$dir/$t" ] || continue
            say "$dir/$t" | sed "s|$ROOT/||"
            "$dir/$t"
        done
        [ -x "$dir/test_ops" ] && "$dir/test_ops" 2
    done
}

# The training script end to end on a tiny model, the training tests on what it wrote (pytest;
# tests/train/conftest.py finds build/smoke.kin and build/smoke-encoder.kin; test_next.py runs
# train/next.sh --dry-run and the CLI on what it wrote), then the CLI reading it.
test_smoke() {
    say "smoke training -> build/smoke.kin"
    rm -rf build/smoke-run
    nice $PY train/train.py --smoke --run build/smoke-run --out build/smoke.kin
    build/kineto info --weights build/smoke.kin
    nice $PY train/export.py --ckpt build/smoke-run/ckpt.pt --out build/smoke-again.kin \
        --encoder-out build/smoke-encoder.kin >/dev/null
    cmp build/smoke.kin build/smoke-again.kin  # the checkpoint exports to the bytes training wrote
    nice $PY train/export.py --kin build/smoke.kin --out build/smoke-again.kin >/dev/null
    cmp build/smoke.kin build/smoke-again.kin  # and a weights file copies to its own bytes
    say "training tests (tests/train): data path, weights format, decoder and autoencoder tuning, next model's dry run"
    nice $PY -m pytest -q tests/train
    rm -rf build/smoke-out
    build/kineto generate --weights build/smoke.kin --prompt "a red ball moving left on black" --seed 7 \
        --steps 2 --out build/smoke-out --gif build/smoke-out/clip.gif
    check_clip build/smoke-out build/smoke-out/clip.gif 4 32 32
    if [ -f weights/kineto-world.kin ]; then
        say "default model: 2 steps through the CLI"
        rm -rf build/default-out
        build/kineto generate --prompt "a blue star bouncing on grass" --seed 3 --steps 2 \
            --out build/default-out --gif build/default-out/clip.gif
        check_clip build/default-out build/default-out/clip.gif 16 64 64
    fi
    say "CLI version and refusals"
    [ "$(build/kineto --version)" = "kineto $VERSION" ] || { echo "error: kineto --version is not $VERSION" >&2; return 1; }
    expect_exit 1 build/kineto generate --weights build/smoke.kin --prompt "a red ball" --steps 1 --out build/smoke-out
    build/kineto generate --weights build/smoke.kin --prompt "a red ball" --steps 1 --out build/smoke-out --force >/dev/null
    expect_exit 1 build/kineto generate --weights build/smoke.kin --prompt "florp" --steps 1 --out build/smoke-out --force
    expect_exit 1 build/kineto info --weights build/no-such.kin
    expect_exit 2 build/kineto generate --steps 500 --prompt "a red ball" --out build/smoke-out
    expect_exit 2 build/kineto generate --bogus
}

# check_clip DIR GIF FRAMES WIDTH HEIGHT: Pillow and ImageMagick decode the PNG frames and the GIF
# with the expected frame count and size.
check_clip() {
    $PY - "$@" <<'PYEOF'
import os, sys
from PIL import Image
d, gif, n, w, h = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
pngs = sorted(f for f in os.listdir(d) if f.endswith(".png"))
assert pngs == ["frame_%03d.png" % i for i in range(n)], "PNG frames: %s" % pngs
for f in pngs:
    assert Image.open(os.path.join(d, f)).size == (w, h), f
g = Image.open(gif)
assert (g.n_frames, g.size) == (n, (w, h)), "GIF: %d frames of %s" % (g.n_frames, g.size)
print("    %d PNG frames and a %d-frame GIF of %dx%d decode" % (n, n, w, h))
PYEOF
    local frames
    frames=$(identify "$2" | wc -l)
    [ "$frames" = "$3" ] || { echo "error: ImageMagick reads $frames frames in $2, expected $3" >&2; return 1; }
}

# expect_exit CODE COMMAND...: the command must fail with exactly CODE (its one-line reason is shown).
expect_exit() {
    local want=$1 got=0; shift
    "$@" >/dev/null || got=$?
    if [ "$got" != "$want" ]; then echo "error: '$*' exited $got, expected $want" >&2; return 1; fi
    echo "    exit $got as expected: $*"
}

# ---- Fuzzing and sanitizers (clang, libclang-rt-14-dev, valgrind) ----
FUZZ_SECONDS=${FUZZ_SECONDS:-25}
FUZZ_CFLAGS=(-std=c11 -O1 -g -fno-omit-frame-pointer -ffp-contract=off -pthread -Iinclude -Isrc
    -fsanitize=address,undefined -fno-sanitize-recover=undefined)

# fuzz_build: build/fuzz/fuzz_weights (file_size and CRC rewritten per input, so the parser behind the
# checksum is fuzzed; the loader is unchanged), build/fuzz/fuzz_prompt and build/fuzz/fuzz_image (the
# start-image decoder and scaler).
fuzz_build() {
    local out=$BUILD/fuzz src objs=()
    mkdir -p "$out/obj"
    for src in $ENGINE_SOURCES; do
        objs+=("$out/obj/$(echo "${src%.c}" | tr / _).o")
        nice clang "${FUZZ_CFLAGS[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "${objs[-1]}"
    done
    nice clang "${FUZZ_CFLAGS[@]}" -fsanitize=fuzzer -DKINETO_FUZZ_FIX_HEADER tests/fuzz/fuzz_weights.c "${objs[@]}" -lm -o "$out/fuzz_weights"
    nice clang "${FUZZ_CFLAGS[@]}" -fsanitize=fuzzer tests/fuzz/fuzz_prompt.c "${objs[@]}" -lm -o "$out/fuzz_prompt"
    # stb_image's integer IDCT overflows int on corrupt coefficients: -fwrapv defines that as wrapping
    # (as the CLI builds it; WebAssembly's i32 arithmetic wraps), so only memory errors are reported
    nice clang "${FUZZ_CFLAGS[@]}" -fwrapv -fno-sanitize=signed-integer-overflow -fsanitize=fuzzer-no-link \
        -c src/io/image_decode.c -o "$out/obj/image_decode.o"
    nice clang "${FUZZ_CFLAGS[@]}" -fsanitize=fuzzer tests/fuzz/fuzz_image.c "$out/obj/image_decode.o" "${objs[@]}" -lm \
        -o "$out/fuzz_image"
}

# Each harness for FUZZ_SECONDS with a fixed seed, from the committed corpus; any crash, leak,
# sanitizer report or timeout fails. New inputs go to build/fuzz/found-*/, crashes to build/fuzz/crash-*.
test_fuzz() {
    say "fuzz harnesses (tests/fuzz, ${FUZZ_SECONDS} s each)"
    fuzz_build
    local h
    # the image seeds are written by a script, not committed as binary files
    rm -rf "$BUILD/fuzz/seeds-image"
    $PY tests/fuzz/image_seeds.py "$BUILD/fuzz/seeds-image" >/dev/null
    for h in weights prompt image; do
        say "fuzz_$h"
        rm -rf "$BUILD/fuzz/found-$h"; mkdir -p "$BUILD/fuzz/found-$h"   # each run starts from the committed corpus
        local rc=0 log=$BUILD/fuzz/fuzz_$h.log max_len=200000 corpus=tests/fuzz/corpus/$h   # a little over tiny.kin
        [ $h = prompt ] && max_len=4096
        [ $h = image ] && max_len=8192 corpus=$BUILD/fuzz/seeds-image
        ASAN_OPTIONS=allocator_may_return_null=1:malloc_limit_mb=2048 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        nice -n 19 "$BUILD/fuzz/fuzz_$h" -seed=1 -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
            -dict="tests/fuzz/$h.dict" -max_len="$max_len" -artifact_prefix="$BUILD/fuzz/" -print_final_stats=1 \
            "$BUILD/fuzz/found-$h" "$corpus" >"$log" 2>&1 || rc=$?
        grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|^==[0-9]+==|^SUMMARY|runtime error' "$log" || true
        if [ "$rc" != 0 ]; then
            tail -40 "$log" >&2
            echo "error: fuzz_$h failed (exit $rc); reproduce with $BUILD/fuzz/fuzz_$h $BUILD/fuzz/<crash file>" >&2
            return 1
        fi
    done
}

# The kernel and API tests, which run the pool at 1 to 4 threads, built with ThreadSanitizer: a race
# in the pool's hand-off or in a kernel's split fails the run.
test_thread_sanitizer() {
    local out=$BUILD/tsan t
    mkdir -p "$out"
    for t in tests/ops/test_ops.c tests/engine/test_api.c; do
        nice clang -std=c11 -O2 -g -ffp-contract=off -pthread -Iinclude -Isrc -fsanitize=thread \
            $ENGINE_SOURCES "$t" -lm -o "$out/$(basename "${t%.c}")"
    done
    for t in test_ops test_api; do
        say "build/tsan/$t"
        TSAN_OPTIONS=halt_on_error=1 nice -n 19 "$out/$t" | tail -1
    done
}

# The C tests built with AddressSanitizer and UndefinedBehaviorSanitizer (clang), the thread-sanitized
# ones above, then the plain build's API and loader tests under valgrind's memcheck. Any report fails.
test_sanitizers() {
    local out=$BUILD/asan src objs=() t
    say "C tests with -fsanitize=address,undefined (build/asan/)"
    mkdir -p "$out/obj"
    for src in $ENGINE_SOURCES; do
        objs+=("$out/obj/$(echo "${src%.c}" | tr / _).o")
        nice clang "${FUZZ_CFLAGS[@]}" -O2 -c "$src" -o "${objs[-1]}"
    done
    for src in $C_TESTS; do
        [ -f "$src" ] || continue
        t=$(basename "${src%.c}")
        nice clang "${FUZZ_CFLAGS[@]}" -O2 "$src" "${objs[@]}" -lm -o "$out/$t"
        say "build/asan/$t"
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            nice -n 19 "$out/$t" | tail -3
    done
    test_thread_sanitizer
    for t in test_weights test_api; do
        say "valgrind build/$t"
        nice -n 19 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
            "$BUILD/$t" | tail -1
    done
}

# The CLI with hostile prompts and parameters, existing files and interrupts (tests/reliability/cli.sh),
# then its output integrity under pytest.
test_cli_reliability() {
    say "CLI reliability (tests/reliability/cli.sh)"
    nice tests/reliability/cli.sh "$BUILD/kineto"
    say "CLI output integrity: failed writes, special files, signals (tests/reliability/test_cli_*.py)"
    KINETO="$BUILD/kineto" nice $PY -m pytest -q -p no:cacheprovider tests/reliability
}

# Every target installs its packages before it calls a tool: build.sh on a simulated bare machine.
test_build() {
    say "build targets on a bare machine (tests/setup/deps_order.sh)"
    nice tests/setup/deps_order.sh
}

# The kernel tests built natively (SSE2, run-time AVX2, scalar) and for WebAssembly (SIMD and base):
# every build must print the same output hashes (tests/ops/run.sh).
test_ops_builds() {
    say "kernels across builds (tests/ops/run.sh)"
    NODE_PATH=/usr/share/nodejs nice tests/ops/run.sh
}

test_all() {
    test_build
    native
    test_c
    test_ops_builds
    test_sanitizers
    test_fuzz
    test_smoke
    test_cli_reliability
    if declare -F wasm >/dev/null; then wasm; fi
    if declare -F test_web >/dev/null; then test_web; fi
}
# ---- Benchmark: every engine (Kineto native, WASM in Node and Chromium, onnxruntime-web/-node, PyTorch)
# on the same model and inputs; GEMM/convolution GFLOP/s beside the peak of the same vector width (f32x8
# natively with AVX2, else f32x4), each build's ISA named. Table on stdout, JSON in
# bench/results/. Trained weights if present, else a full-size random model. BENCH_REPS=3 by default.
BENCH=$BUILD/bench
BENCH_WASM_FLAGS=(-O3 -msimd128 -ffp-contract=off -Iinclude -Isrc -pthread -sPTHREAD_POOL_SIZE=7 -sEXIT_RUNTIME=1
    -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=64MB -Wno-pthreads-mem-growth)
bench() {
    say "native build (build/): kernels for $NATIVE_ISA_SAY"
    native_variant "$BUILD" "${NATIVE_ISA_FLAGS[@]}"
    wasm
    vendor
    # BENCH_WEIGHTS: another model, e.g. a random 128x128 one (bench/make_model.py --size 128)
    local weights=${BENCH_WEIGHTS:-weights/kineto-world.kin}
    if [ ! -f "$weights" ]; then
        weights=$BENCH/kineto-random.kin
        if [ ! -f "$weights" ]; then
            say "no trained weights: a full-size random model -> ${weights#$ROOT/}"
            nice $PY bench/make_model.py --out "$weights"
        fi
    fi
    say "benchmark programs (build/bench/)"
    mkdir -p "$BENCH/wasm"
    nice "$CC" "${NATIVE_CFLAGS[@]}" bench/bench_engine.c "$BUILD/libkineto.a" -lm -o "$BENCH/bench_engine"
    nice "$CC" "${NATIVE_CFLAGS[@]}" bench/bench_long.c "$BUILD/libkineto.a" -lm -o "$BENCH/bench_long"
    # the widest vector this machine runs, as the engine's kernels do here, so the kernel table
    # measures the GEMM tiles the engine runs beside the peak of the same width
    local isa=""
    host_has __AVX2__ -march=native && isa=-mavx2
    nice "$CC" "${NATIVE_CFLAGS[@]}" $isa src/ops/*.c bench/kernels.c -lm -o "$BENCH/kernels"
    # Emscripten's CommonJS glue, run by Node inside a "type": "module" package.
    echo '{"type": "commonjs"}' > "$BENCH/wasm/package.json"
    NODE_PATH=/usr/share/nodejs nice emcc "${BENCH_WASM_FLAGS[@]}" src/ops/*.c bench/kernels.c -o "$BENCH/wasm/kernels.js"
    say "benchmark at nice 19 (a few minutes)"
    nice -n 19 node bench/run.mjs "$weights" "$BENCH" "${BENCH_REPS:-3}"
}

# ---- WebAssembly: three builds of the engine for web/lib/worker.js, which picks one at run time.
# They sit inside web/lib/ with the default weights, so an embedder copies that one folder. ----
WASM_OUT=$ROOT/web/lib/wasm
# The engine's C sources, without the CLI (native() may set ENGINE_SOURCES; this is the fallback).
engine_sources() {
    if [ -n "${ENGINE_SOURCES:-}" ]; then echo "$ENGINE_SOURCES"; return; fi
    ls src/*.c src/ops/*.c src/model/*.c 2>/dev/null | tr '\n' ' '
}
WASM_EXPORTS="_malloc,_free,_kineto_js_load,_kineto_js_load_status,_kineto_js_info,_kineto_js_begin,\
_kineto_js_clip_bytes,_kineto_free,_kineto_last_error,_kineto_status_str,_kineto_vocab_word,\
_kineto_unknown_words,_kineto_step,_kineto_steps_done,_kineto_steps_total,_kineto_done,_kineto_frames,\
_kineto_preview,_kineto_decode,_kineto_end,_kineto_generation_bytes,_kineto_js_begin_clip,_kineto_frames_ready,\
_kineto_decode_range,_kineto_js_decode_image,_kineto_js_image_width,_kineto_js_image_height,_kineto_js_image_error"
# Memory: a default-size model peaks at ~40 MB of heap (weights repacked to f32, one 16-frame
# generation of ~5 MB), so 64 MB avoids growth in the common case; 256 MB is the ceiling we promise:
# past it malloc fails cleanly (KINETO_ERR_NOMEM) instead of the tab running out.
# stb_image (src/io/) from Debian's libstb-dev: only its folder, so the system's other headers stay out
STB_INCLUDE=$BUILD/stb-include
WASM_FLAGS=(-O3 -ffp-contract=off -Iinclude -Isrc -I"$STB_INCLUDE"
    -sMODULARIZE=1 -sEXPORT_ES6=1 -sENVIRONMENT=web,worker,node
    -sDYNAMIC_EXECUTION=0 -sFILESYSTEM=0 -sSTRICT=1
    -sINITIAL_MEMORY=64MB -sMAXIMUM_MEMORY=256MB -sALLOW_MEMORY_GROWTH=1 -sABORTING_MALLOC=0
    -sTOTAL_STACK=1MB
    -sEXPORTED_FUNCTIONS="$WASM_EXPORTS"
    -sEXPORTED_RUNTIME_METHODS=UTF8ToString)   # strings into C are encoded with TextEncoder

# wasm_variant NAME EXPORT_NAME FLAGS...: build web/lib/wasm/NAME.{js,wasm} when a source is newer.
wasm_variant() {
    local name=$1 export_name=$2; shift 2
    local out=$WASM_OUT/$name.js recipe="${WASM_FLAGS[*]} $* $(engine_sources) src/io/image_decode.c"
    if [ -f "$out" ] && [ "$(cat "$WASM_OUT/$name.recipe" 2>/dev/null)" = "$recipe" ] &&
       [ -z "$(find src include -newer "$out" -type f -print -quit)" ]; then
        echo "    $name: up to date"; return
    fi
    say "emcc $name"
    mkdir -p "$STB_INCLUDE"
    ln -sfn /usr/include/stb "$STB_INCLUDE/stb"
    NODE_PATH=/usr/share/nodejs nice emcc "${WASM_FLAGS[@]}" "$@" -sEXPORT_NAME="$export_name" \
        $(engine_sources) src/io/image_decode.c src/bindings/wasm_api.c -o "$out"
    # The pthread worker's Node branch defines importScripts with eval; this ES-module build never
    # calls it (it uses import()), so it is replaced, keeping the glue free of eval for strict CSPs.
    if [ -f "$WASM_OUT/$name.worker.js" ]; then
        sed -i 's/importScripts:function(f){(0,eval)(fs.readFileSync(f,"utf8"))}/importScripts:function(f){throw new Error("importScripts is not used by Kineto")}/' \
            "$WASM_OUT/$name.worker.js"
    fi
    if grep -lE '(^|[^A-Za-z0-9_.$-])eval([^A-Za-z0-9_]|$)|new Function' "$WASM_OUT/$name".*js; then
        echo "error: eval in the generated glue of $name" >&2; return 1
    fi
    echo "$recipe" > "$WASM_OUT/$name.recipe"
}

# web/lib/version.js: the version kineto.js exports, from package.json.
version_file() {
    local text="export const VERSION = '$VERSION';   // written by ./build.sh from package.json"
    [ "$(cat web/lib/version.js 2>/dev/null)" = "$text" ] || echo "$text" > web/lib/version.js
}

wasm() {
    mkdir -p "$WASM_OUT"
    version_file
    wasm_variant kineto-simd-mt createKinetoSimdMt -msimd128 -pthread -Wno-pthreads-mem-growth \
        '-sPTHREAD_POOL_SIZE=Module["pthreadPoolSize"]||4' -sPTHREAD_POOL_SIZE_STRICT=2
    wasm_variant kineto-simd createKinetoSimd -msimd128
    wasm_variant kineto-base createKinetoBase -DKINETO_NO_SIMD
    if [ -f weights/kineto-world.kin ] && [ weights/kineto-world.kin -nt "$WASM_OUT/kineto-world.kin" ]; then
        cp weights/kineto-world.kin "$WASM_OUT/"
        echo "    copied weights/kineto-world.kin"
    fi
    sw_files
}

test_web_node() {
    wasm
    say "node tests (tests/node)"
    node --test tests/node/
}

# kineto.js, worker.js and <kineto-clip> in Debian's chromium.
test_web_embed() {
    wasm
    say "embedding tests (tests/embed, Debian chromium)"
    node --test --test-concurrency=1 tests/embed/
}

# Every web suite; the page's browser tests are appended here.
test_web() {
    test_web_node
    test_web_embed
    test_web_browser
    test_package
}

# ---- The web page (web/app/): npm libraries copied into web/app/vendor/, the service worker's file
# list, a local server with cross-origin isolation ----
# node_modules path -> web/app/vendor/ name; the page imports these ES modules.
VENDOR_FILES="gifenc/dist/gifenc.esm.js:gifenc.js fflate/esm/browser.js:fflate.js
    mediabunny/dist/bundles/mediabunny.min.mjs:mediabunny.js"
vendor() {
    mkdir -p web/app/vendor
    version_file
    local pair src dst
    for pair in $VENDOR_FILES; do
        src=node_modules/${pair%%:*} dst=web/app/vendor/${pair##*:}
        if [ ! -f "$dst" ] || [ "$src" -nt "$dst" ]; then cp "$src" "$dst"; echo "    vendored $src"; fi
    done
    sw_files
}

# web/app/sw-files.js: what the service worker keeps for offline use, listed from the files present
# (paths under web/): web/ and the page (./ and app/ serve their index.html), the page's files, the
# library's modules, its WebAssembly builds and weights.
sw_files() {
    local list
    list=$(cd web && {
        echo ./
        echo app/
        find app -type f ! -path app/index.html ! -name sw.js ! -name sw-files.js ! -name '*.tmp'
        find lib -maxdepth 1 -type f -name '*.js'
        if [ -d lib/wasm ]; then
            find lib/wasm -maxdepth 1 -type f \( -name 'kineto-*.js' -o -name 'kineto-*.wasm' -o -name kineto-world.kin \)
        fi
    } | LC_ALL=C sort | sed 's/.*/  "&",/')
    printf '// Written by ./build.sh from the files present: what web/app/sw.js keeps offline.\nself.KINETO_FILES = [\n%s\n];\n' \
        "$list" > web/app/sw-files.js.tmp
    mv web/app/sw-files.js.tmp web/app/sw-files.js
}

# ---- The npm package: web/lib/ (modules, types, WebAssembly builds, default weights) with the README
# and package.json of web/package/, staged in build/package/ and packed into build/kineto-<version>.tgz.
# It is not published from here. ----
PACKAGE_DIR=$BUILD/package
package() {
    wasm
    [ -f "$WASM_OUT/kineto-world.kin" ] || { echo "error: no weights/kineto-world.kin to package" >&2; return 1; }
    say "npm package build/kineto-$VERSION.tgz"
    rm -rf "$PACKAGE_DIR"
    mkdir -p "$PACKAGE_DIR/wasm"
    cp web/lib/*.js web/lib/*.d.ts "$PACKAGE_DIR/"
    sed "s/@VERSION@/$VERSION/" web/package/README.md > "$PACKAGE_DIR/README.md"
    cp "$WASM_OUT"/kineto-*.js "$WASM_OUT"/kineto-*.wasm "$WASM_OUT/kineto-world.kin" "$PACKAGE_DIR/wasm/"
    sed "s/@VERSION@/$VERSION/" web/package/package.template.json > "$PACKAGE_DIR/package.json"
    rm -f "$BUILD/kineto-$VERSION.tgz"
    npm pack "$PACKAGE_DIR" --pack-destination "$BUILD" --loglevel=error >/dev/null
    ls -l "$BUILD/kineto-$VERSION.tgz" | sed "s|$ROOT/||"
}

# build/kineto.html: the page, engine and default weights in one file for file:// (web/single/).
single() {
    wasm
    vendor
    [ -f "$WASM_OUT/kineto-world.kin" ] || { echo "error: no weights/kineto-world.kin to inline" >&2; return 1; }
    say "single-file page build/kineto.html"
    mkdir -p "$BUILD"
    node web/single/build.mjs build/kineto.html
}

# The package installed from its tarball into an empty project, served, bundled and type-checked
# (tests/package), and the single file opened from disk; Debian chromium.
test_package() {
    package
    single
    say "package and single-file tests (tests/package, Debian chromium)"
    node --test --test-concurrency=1 tests/package/
}

PORT=${PORT:-8080}
# serve.json sets COOP/COEP/CORP, so the page is cross-origin isolated and the engine can use threads.
# The page is /app/; / sends the visitor there (web/index.html).
serve() {
    [ -f "$WASM_OUT/kineto-simd.js" ] || wasm
    vendor
    [ -f "$WASM_OUT/kineto-world.kin" ] || echo "warning: no web/lib/wasm/kineto-world.kin (weights/kineto-world.kin missing); the page cannot load a model" >&2
    say "Kineto at http://localhost:$PORT/  (Ctrl+C stops)"
    exec node_modules/.bin/serve --config "$ROOT/serve.json" --listen "tcp://127.0.0.1:$PORT" \
        --no-clipboard --no-port-switching web
}

test_web_browser() {
    [ -f "$WASM_OUT/kineto-simd.js" ] || wasm
    vendor
    say "browser tests (tests/browser, Debian chromium)"
    node --test --test-concurrency=1 tests/browser/
}

case "${1:-all}" in
    deps) deps $ALL_GROUPS ;;
    native) deps native; native ;;
    wasm) deps wasm; wasm ;;
    all) deps native wasm web; native; wasm ;;
    test) deps $ALL_GROUPS; test_all ;;
    test-c) deps native train; native; test_c; test_smoke ;;
    test-ops) deps native wasm; test_ops_builds ;;
    test-fuzz) deps native sanitize; test_fuzz ;;
    test-sanitizers) deps native sanitize; native; test_sanitizers ;;
    serve) deps wasm web; serve ;;
    vendor) deps web; vendor ;;
    test-browser) deps wasm web browser; test_web_browser ;;
    package) deps wasm web; package ;;
    single) deps wasm web; single ;;
    test-package) deps wasm web browser; test_package ;;
    bench) deps $ALL_GROUPS; bench ;;
    *) echo "usage: $0 [all|native|wasm|test|test-c|test-ops|test-fuzz|test-sanitizers|test-browser|test-package|package|single|serve|vendor|bench|deps]" >&2; exit 2 ;;
esac
