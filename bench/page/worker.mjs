// worker.mjs — one benchmark run in a module Worker, as Kineto's page runs its engine.
// job: {threads, reps, weights (URL), dir (URL of torch_bench.py's files)}. Kineto and onnxruntime-web
// are loaded side by side and their clips alternate; answers [kineto, ort-web] summaries.
import { interleaved, kinetoRunner, ortRunner } from '../pipeline.mjs';

const fetchBytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());

self.onmessage = async ({ data: job }) => {
  try {
    const inputs = await (await fetch(`${job.dir}/inputs.json`)).json();
    const ref = await fetchBytes(`${job.dir}/ref_frames.u8`);
    const { loadEngine, Engine } = await import('/web/lib/kineto-engine.js');
    const mode = job.threads > 1 ? 'simd-mt' : 'simd';
    const loaded = await loadEngine({ mode, threads: job.threads });
    const engine = new Engine(loaded, await fetchBytes(job.weights));
    const ort = await import('/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
    ort.env.wasm.numThreads = job.threads;
    ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
    // onnxruntime's pool with spinning off, as in node_bench.mjs, where it ran faster so.
    const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all', executionMode: 'sequential',
      extra: { session: { intra_op: { allow_spinning: '0' } } } };
    const sessions = {};
    for (const name of ['text', 'denoiser', 'decoder']) {
      sessions[name] = await ort.InferenceSession.create(await fetchBytes(`${job.dir}/${name}.onnx`), options);
    }
    const [k, o] = await interleaved([kinetoRunner(engine, inputs, ref), ortRunner(ort, sessions, inputs, ref)], job.reps);
    const result = [{ engine: 'kineto', build: mode, ...k }, { engine: 'ort-web', ...o }];
    engine.free();
    loaded.module.PThread?.terminateAllThreads();
    self.postMessage(result);
  } catch (error) {
    self.postMessage({ error: String(error?.stack || error) });
  }
};
