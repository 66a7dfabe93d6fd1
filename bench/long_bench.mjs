// long_bench.mjs — long clips in Node's WebAssembly build; one JSON line per figure.
//   node bench/long_bench.mjs WEIGHTS PROMPT SEED REPS [STEPS]
// The clip time of 16 and of 64 frames (simd build, 1 thread), then, in a fresh module, the
// WebAssembly memory a 256-frame clip (KINETO_MAX_FRAMES) takes. STEPS: the model's default when
// absent; memory does not depend on it, so the 256-frame clip runs 1 step a window.
import fs from 'node:fs';
import path from 'node:path';
import { WASM, loadModule, stopThreads } from '../tests/node/load-engine.mjs';
import { Engine, loadEngine } from '../web/lib/kineto-engine.js';
import { longRows, timeClip, wasmMemoryMb } from './long_clip.mjs';

const [weights, prompt, seedArg, repsArg, stepsArg] = process.argv.slice(2);
const bytes = fs.readFileSync(weights);
const steps = stepsArg ? Number(stepsArg) : 0;
const timed = new Engine(await loadModule('simd', 1), bytes);
for (const row of longRows(timed, { prompt, seed: Number(seedArg), steps, reps: Number(repsArg) })) {
  console.log(JSON.stringify({ kind: 'long', engine: 'kineto', where: 'wasm-node', threads: 1, ...row }));
}
timed.free();

// a module of its own, so its memory holds only this model and this clip
const wasmBinary = fs.readFileSync(path.join(WASM, 'kineto-simd.wasm'));
const fresh = new Engine(await loadEngine({ mode: 'simd', moduleOptions: { wasmBinary } }), bytes);
const before = wasmMemoryMb(fresh);
const clip = timeClip(fresh, { prompt, seed: Number(seedArg), steps: 1, frames: 256 });
console.log(JSON.stringify({ kind: 'long-memory', engine: 'kineto', where: 'wasm-node', frames: 256, steps: clip.steps,
  generation_mb: clip.generation_mb, wasm_memory_mb: wasmMemoryMb(fresh), wasm_memory_loaded_mb: before }));
fresh.free();
stopThreads();
process.exit(0);
