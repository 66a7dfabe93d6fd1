// node_bench.mjs — benchmark runs in Node; prints one JSON line per engine.
//   node bench/node_bench.mjs ENGINE THREADS DIR WEIGHTS REPS
// ENGINE: wasm — Kineto's WebAssembly build (simd for 1 thread, simd-mt above) and onnxruntime-web's
// WASM SIMD backend in one process, their clips alternating; ort-node — onnxruntime-node (native),
// alone, so its peak RSS is its own. DIR holds torch_bench.py's files.
import fs from 'node:fs';
import path from 'node:path';
import { interleaved, kinetoRunner, ortRunner } from './pipeline.mjs';

const [engineName, threadsArg, dir, weights, repsArg] = process.argv.slice(2);
const threads = Number(threadsArg), reps = Number(repsArg);
const inputs = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8'));
const ref = new Uint8Array(fs.readFileSync(path.join(dir, 'ref_frames.u8')));
const refLatent = new Float32Array(new Uint8Array(fs.readFileSync(path.join(dir, 'ref_latent.f32'))).buffer);

// onnxruntime's pool with spinning off: on 2 cores it ran faster so (a run with its default spinning:
// ort-node 586 against 365 ms a clip at 2 threads, ort-web 1170 against 1028 ms in Node).
export const ORT_OPTIONS = { graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1,
  extra: { session: { intra_op: { allow_spinning: '0' } } } };

async function ortSessions(ort, options) {
  const sessions = {};
  for (const name of ['text', 'denoiser', 'decoder']) {
    sessions[name] = await ort.InferenceSession.create(fs.readFileSync(path.join(dir, `${name}.onnx`)), options);
  }
  return sessions;
}

const rssMb = () => Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
if (engineName === 'wasm') {
  const { loadModule, stopThreads } = await import('../tests/node/load-engine.mjs');
  const { Engine } = await import('../web/lib/kineto-engine.js');
  const variant = threads > 1 ? 'simd-mt' : 'simd';
  const engine = new Engine(await loadModule(variant, threads), fs.readFileSync(weights));
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  const sessions = await ortSessions(ort, { ...ORT_OPTIONS, executionProviders: ['wasm'] });
  const [k, o] = await interleaved([kinetoRunner(engine, inputs, ref), ortRunner(ort, sessions, inputs, ref, refLatent)], reps);
  console.log(JSON.stringify({ engine: 'kineto', where: 'wasm-node', threads, build: variant, ...k }));
  console.log(JSON.stringify({ engine: 'ort-web', where: 'wasm-node', threads, ...o, process_rss_mb: rssMb(),
    peak_note: 'one process with Kineto' }));
  engine.free();
  stopThreads();
} else if (engineName === 'ort-node') {
  const ort = (await import('onnxruntime-node')).default;
  const sessions = await ortSessions(ort, { ...ORT_OPTIONS, intraOpNumThreads: threads, executionProviders: ['cpu'] });
  const [o] = await interleaved([ortRunner(ort, sessions, inputs, ref, refLatent)], reps);
  console.log(JSON.stringify({ engine: 'ort-node', where: 'native', threads, ...o, peak_mb: rssMb(), peak_what: 'process max RSS' }));
} else {
  throw new Error(`unknown engine ${engineName}`);
}
process.exit(0);
