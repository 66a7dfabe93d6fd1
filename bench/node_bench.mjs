// node_bench.mjs — one benchmark run in Node; prints one JSON line.
//   node bench/node_bench.mjs ENGINE THREADS DIR WEIGHTS REPS
// ENGINE: kineto-wasm (the simd build for 1 thread, simd-mt above), ort-web (onnxruntime-web's
// WASM SIMD backend), ort-node (onnxruntime-node, native). DIR holds torch_bench.py's files.
import fs from 'node:fs';
import path from 'node:path';
import { runKineto, runOrt } from './pipeline.mjs';

const [engineName, threadsArg, dir, weights, repsArg] = process.argv.slice(2);
const threads = Number(threadsArg), reps = Number(repsArg);
const inputs = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8'));
const ref = new Uint8Array(fs.readFileSync(path.join(dir, 'ref_frames.u8')));
const refLatent = new Float32Array(new Uint8Array(fs.readFileSync(path.join(dir, 'ref_latent.f32'))).buffer);

// Spinning worker threads only steal time from each other on a busy machine; Kineto's pool sleeps too.
const ORT_OPTIONS = { graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1,
  extra: { session: { intra_op: { allow_spinning: '0' } } } };

async function ortSessions(ort, options) {
  const sessions = {};
  for (const name of ['text', 'denoiser', 'decoder']) {
    sessions[name] = await ort.InferenceSession.create(fs.readFileSync(path.join(dir, `${name}.onnx`)), options);
  }
  return sessions;
}

function latentDiff(latent) {
  let d = 0;
  for (let i = 0; i < latent.length; i++) d = Math.max(d, Math.abs(latent[i] - refLatent[i]));
  return Math.round(d * 1e6) / 1e6;
}

let result;
if (engineName === 'kineto-wasm') {
  const { loadModule, stopThreads } = await import('../tests/node/load-engine.mjs');
  const { Engine } = await import('../web/kineto-engine.js');
  const variant = threads > 1 ? 'simd-mt' : 'simd';
  const engine = new Engine(await loadModule(variant, threads), fs.readFileSync(weights));
  result = { engine: 'kineto', where: 'wasm-node', threads, build: variant, ...runKineto(engine, inputs, ref, reps) };
  engine.free();
  stopThreads();
} else if (engineName === 'ort-web') {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  const sessions = await ortSessions(ort, { ...ORT_OPTIONS, executionProviders: ['wasm'] });
  const { latent, ...r } = await runOrt(ort, sessions, inputs, ref, reps);
  result = { engine: 'ort-web', where: 'wasm-node', threads, ...r, latent_max_abs_diff: latentDiff(latent) };
} else if (engineName === 'ort-node') {
  const ort = (await import('onnxruntime-node')).default;
  const sessions = await ortSessions(ort, { ...ORT_OPTIONS, intraOpNumThreads: threads, executionProviders: ['cpu'] });
  const { latent, ...r } = await runOrt(ort, sessions, inputs, ref, reps);
  result = { engine: 'ort-node', where: 'native', threads, ...r, latent_max_abs_diff: latentDiff(latent) };
} else {
  throw new Error(`unknown engine ${engineName}`);
}
const rss = process.resourceUsage().maxRSS / 1024;
if (!result.peak_mb) Object.assign(result, { peak_mb: Math.round(rss * 10) / 10, peak_what: 'process max RSS' });
else result.process_rss_mb = Math.round(rss * 10) / 10;
console.log(JSON.stringify(result));
process.exit(0);
