// long.mjs — long clips timed in a module Worker, as Kineto's worker makes them (long_clip.mjs).
// job: {threads, reps, weights (URL), prompt, seed, steps}; answers the rows of 16 and 64 frames.
import { longRows } from '../long_clip.mjs';

self.onmessage = async ({ data: job }) => {
  try {
    const { loadEngine, Engine } = await import('/web/lib/kineto-engine.js');
    const mode = job.threads > 1 ? 'simd-mt' : 'simd';
    const loaded = await loadEngine({ mode, threads: job.threads });
    const engine = new Engine(loaded, new Uint8Array(await (await fetch(job.weights)).arrayBuffer()));
    const rows = longRows(engine, job).map((row) => ({ build: mode, ...row }));
    engine.free();
    loaded.module.PThread?.terminateAllThreads();
    self.postMessage(rows);
  } catch (error) {
    self.postMessage({ error: String(error?.stack || error) });
  }
};
