// The single-file page's model (replaces web/app/model.js): the default weights and the engine's
// worker inline, so nothing is fetched. The worker starts from a data: URL, since Chromium starts no
// module worker from a file:// page's Blob URL.
import weights from '../lib/wasm/kineto-world.kin';   // a Uint8Array (esbuild's binary loader)
import workerUrl from 'kineto-single:worker';         // web/single/worker.js bundled, as a data: URL

export const INLINE = true;

export function builtInModel() {
  return { weights: weights.buffer, workerUrl };
}
