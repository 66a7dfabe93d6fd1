// The engine's worker of the single-file page: the SIMD and plain builds with their WebAssembly
// inline, since a page opened from disk can fetch nothing. The threaded build is left out: a
// file:// page is never cross-origin isolated. web/lib/worker.js does the rest.
import { VARIANTS } from '../lib/kineto-engine.js';
import createKinetoSimd from '../lib/wasm/kineto-simd.js';
import createKinetoBase from '../lib/wasm/kineto-base.js';
import simdWasm from '../lib/wasm/kineto-simd.wasm';   // Uint8Arrays (esbuild's binary loader)
import baseWasm from '../lib/wasm/kineto-base.wasm';
import '../lib/worker.js';

// locateFile keeps the glue from resolving a .wasm URL against this worker's blob: URL.
const inline = (factory, wasmBinary) => (options) => factory({ ...options, wasmBinary, locateFile: (file) => file });
VARIANTS.simd.factory = inline(createKinetoSimd, simdWasm);
VARIANTS.base.factory = inline(createKinetoBase, baseWasm);
delete VARIANTS['simd-mt'];
