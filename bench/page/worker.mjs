// worker.mjs — one benchmark run in a module Worker, as Kineto's page runs its engine.
// job: {engine: 'kineto' | 'ort-web', threads, reps, weights (URL), dir (URL of torch_bench.py's files)}
import { runKineto, runOrt } from '../pipeline.mjs';

const fetchBytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());

self.onmessage = async ({ data: job }) => {
  try {
    const inputs = await (await fetch(`${job.dir}/inputs.json`)).json();
    const ref = await fetchBytes(`${job.dir}/ref_frames.u8`);
    let result;
    if (job.engine === 'kineto') {
      const { loadEngine, Engine } = await import('/web/kineto-engine.js');
      const mode = job.threads > 1 ? 'simd-mt' : 'simd';
      const loaded = await loadEngine({ mode, threads: job.threads, baseUrl: new URL('/web/', location.href) });
      const engine = new Engine(loaded, await fetchBytes(job.weights));
      result = { build: mode, ...runKineto(engine, inputs, ref, job.reps) };
      engine.free();
      loaded.module.PThread?.terminateAllThreads();
    } else {
      const ort = await import('/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
      ort.env.wasm.numThreads = job.threads;
      ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
      const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all', executionMode: 'sequential',
        extra: { session: { intra_op: { allow_spinning: '0' } } } };
      const sessions = {};
      for (const name of ['text', 'denoiser', 'decoder']) {
        sessions[name] = await ort.InferenceSession.create(await fetchBytes(`${job.dir}/${name}.onnx`), options);
      }
      const { latent, ...r } = await runOrt(ort, sessions, inputs, ref, job.reps);
      result = r;
    }
    self.postMessage(result);
  } catch (error) {
    self.postMessage({ error: String(error?.stack || error) });
  }
};
