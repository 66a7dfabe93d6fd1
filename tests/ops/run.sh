#!/usr/bin/env bash
# Builds and runs the kernel tests five ways — native SSE2, native as build.sh makes it (SSE2 and
# AVX2 chosen at run time, src/ops/isa.h), native without SIMD, WebAssembly SIMD with threads, and the
# base WebAssembly build (no SIMD, no threads) under Node — plus native AVX2 alone where the CPU has
# it, and checks that all print the same output hash for every kernel, and that the run-time build
# has instructions past SSE2 only in its AVX2 copy of the kernels.
#   tests/ops/run.sh          tests
#   tests/ops/run.sh bench    also the GFLOP/s table, native and WebAssembly, 1 and 2 threads
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-build/ops}
mkdir -p "$OUT"
echo '{"type": "commonjs"}' > "$OUT/package.json"   # Emscripten's glue is CommonJS; the repository's package is ESM
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
SRC="src/ops/mathf.c src/ops/threads.c src/ops/gemm.c src/ops/conv.c src/ops/norm.c src/ops/attention.c src/ops/activations.c"
NATIVE="cc -std=c11 -O2 -ffp-contract=off -Wall -Wextra -Iinclude -Isrc -pthread"
WASM_BASE="emcc -std=c11 -O3 -Wall -Iinclude -Isrc -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=64MB -sEXIT_RUNTIME=1"
WASM="$WASM_BASE -msimd128"
WASM_THREADS="-pthread -sPTHREAD_POOL_SIZE=7"   # KN_MAX_THREADS - 1 workers, created up front
NODE="node --no-experimental-fetch"
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
run() { echo "+ $*"; "$@"; }

say "build"
run $NATIVE -msse2 $SRC tests/ops/test_ops.c -lm -o "$OUT/test_ops"
run $NATIVE -DKN_DISPATCH_AVX2 -mavx2 -c src/ops/kernels_avx2.c -o "$OUT/kernels_avx2.o"
mkdir -p "$OUT/dispatch"
for src in $SRC; do run $NATIVE -DKN_DISPATCH_AVX2 -c "$src" -o "$OUT/dispatch/$(basename "${src%.c}").o"; done
run $NATIVE -DKN_DISPATCH_AVX2 "$OUT"/dispatch/*.o "$OUT/kernels_avx2.o" tests/ops/test_ops.c -lm -o "$OUT/test_ops_dispatch"
run $NATIVE -DKINETO_NO_SIMD $SRC tests/ops/test_ops.c -lm -o "$OUT/test_ops_nosimd"
run $WASM $WASM_THREADS $SRC tests/ops/test_ops.c -o "$OUT/test_ops_wasm.js" 2> >(grep -v pthreads-mem-growth >&2)
run $WASM_BASE $SRC tests/ops/test_ops.c -o "$OUT/test_ops_wasm_base.js"
BUILDS="test_ops test_ops_dispatch test_ops_nosimd test_ops_wasm test_ops_wasm_base"
if [[ "$(cc -march=native -dM -E -x c /dev/null)" == *__AVX2__* ]]; then   # the 256-bit GEMM tiles, where they run
    run $NATIVE -mavx2 $SRC tests/ops/test_ops.c -lm -o "$OUT/test_ops_avx2"
    BUILDS="$BUILDS test_ops_avx2"
fi

status=0
# x86 has no mnemonic starting with v before AVX (VEX), so any is an instruction an SSE2-only CPU lacks
say "instructions past SSE2 outside kernels_avx2.o"
vex=$(objdump -d --no-show-raw-insn "$OUT"/dispatch/*.o | awk -F'\t' '$2 ~ /^v/' | head -5)
if [ -n "$vex" ]; then echo "FAIL: AVX instructions in the SSE2 objects:"; echo "$vex"; status=1; else echo "none"; fi

for t in $BUILDS; do
    say "$t"
    case $t in
        *wasm*) cmd="$NODE $OUT/$t.js" ;;
        *) cmd="$OUT/$t" ;;
    esac
    $cmd 2 > "$OUT/$t.txt" || status=1
    grep -v '^hash ' "$OUT/$t.txt" | grep -v '^ok ' || true
    grep '^hash ' "$OUT/$t.txt" > "$OUT/$t.hash"
done

say "output hashes across builds ($(wc -l < "$OUT/test_ops.hash") kernel outputs)"
for t in ${BUILDS#test_ops }; do
    if diff -q "$OUT/test_ops.hash" "$OUT/$t.hash" > /dev/null; then
        echo "$t: bit-identical to native SSE2"
    else
        echo "$t: DIFFERS from native SSE2"; diff "$OUT/test_ops.hash" "$OUT/$t.hash" | head; status=1
    fi
done

if [ "${1:-}" = bench ]; then
    say "bench"
    run $NATIVE -msse2 $SRC tests/ops/bench_ops.c -lm -o "$OUT/bench_ops"
    run $WASM $WASM_THREADS $SRC tests/ops/bench_ops.c -o "$OUT/bench_ops_wasm.js" 2> >(grep -v pthreads-mem-growth >&2)
    "$OUT/bench_ops"
    $NODE "$OUT/bench_ops_wasm.js"
fi
exit $status
