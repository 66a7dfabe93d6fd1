// kineto.js — Kineto's embedding API: text to a short video clip, computed in a Web Worker.
//
//   import { init, generate } from './kineto.js';
//   const { mode, info } = await init();                 // loads the engine and the model once
//   const clip = await generate({ prompt: 'a red ball moving left', seed: 7, onProgress, signal });
//   // clip.frames: one RGBA Uint8ClampedArray of clip.width * clip.height * 4 bytes per frame
//   // long clips: frames up to 256, prompt: ['shot one', 'shot two'] or shots: [{prompt, frames}],
//   // seamless: true; onFrames gets each window's frames as soon as they are final
//   // image: an ImageData, ImageBitmap or Blob (PNG/JPEG file) as the clip's first frame
//
// One worker serves the whole page; concurrent generate() calls run one after another. The worker,
// the WebAssembly builds and the default weights are found relative to this module, so the whole
// web/lib/ folder can be copied anywhere.

import { checkRequest, splitWords, suggestWord, unknownWords, MAX_FRAMES, MAX_SHOTS, MAX_IMAGE_SIDE }
  from './kineto-request.js';

export { checkRequest, splitWords, suggestWord, unknownWords, MAX_FRAMES, MAX_SHOTS, MAX_IMAGE_SIDE };
export { VERSION } from './version.js';   // written by ./build.sh from package.json

// The model init() loads when given neither weightsUrl nor weights.
export const DEFAULT_WEIGHTS_URL = new URL('./wasm/kineto-world.kin', import.meta.url).href;

let session = null;   // {worker, options, ready: Promise, jobs: Map<id, job>}
let lastOptions = {}; // a crashed worker is replaced by one started with these
let nextJobId = 1;
let imagesRead = Promise.resolve();   // the start image of the latest generate() call, read

// options: weightsUrl (default ./wasm/kineto-world.kin beside this file) or weights (an ArrayBuffer),
// mode ('auto' | 'simd-mt' | 'simd' | 'base'), threads (for simd-mt, default the core count, at most 4).
// Resolves to {mode, info: {frames, width, height, fps, vocab, defaultSteps, defaultGuidance, defaultRenoise,
// maxTokens, hasEncoder}}.
// Calling it again with the same options (or none) reuses the running worker; other options restart it.
export function init(options) {
  if (session && (options === undefined || sameOptions(session.options, options))) return session.ready;
  if (session) stop(session, 'Kineto was initialised again with other options');
  try {
    if (options?.weightsUrl !== undefined) sameOriginUrl('weightsUrl', options.weightsUrl);
  } catch (error) {
    return Promise.reject(error);
  }
  lastOptions = options ?? lastOptions;
  try {
    session = start(lastOptions);
  } catch (error) {   // e.g. a Content-Security-Policy without worker-src 'self'
    return Promise.reject(new Error(`could not start the Kineto worker: ${error.message}`));
  }
  return session.ready;
}

// Weights are fetched only from the page's own origin (or this module's), so a link such as
// index.html?weights=https://elsewhere/x.kin cannot make Kineto load or reach another site.
function sameOriginUrl(field, value) {
  const url = new URL(String(value), location.href);
  if (url.origin !== location.origin && url.origin !== new URL(import.meta.url).origin) {
    const error = new TypeError(`${field} must be on this page's origin ${location.origin}, not ${url.origin}`);
    error.field = field;
    throw error;
  }
  return url.href;
}

function sameOptions(a, b) {
  const keys = ['weightsUrl', 'weights', 'mode', 'threads', 'workerUrl'];
  return keys.every((k) => String(a[k] ?? '') === String(b[k] ?? '') && (k !== 'weights' || a[k] === b[k]));
}

function start(options) {
  const workerUrl = options.workerUrl ?? new URL('./worker.js', import.meta.url);
  // A relative weightsUrl is the page's, not the worker's (which sits beside this module).
  const weightsUrl = options.weightsUrl !== undefined ? new URL(String(options.weightsUrl), location.href).href
    : DEFAULT_WEIGHTS_URL;
  const worker = new Worker(workerUrl, { type: 'module', name: 'kineto' });
  const s = { worker, options, jobs: new Map(), vocab: null, info: null };
  s.ready = new Promise((resolve, reject) => { s.resolveReady = resolve; s.rejectReady = reject; });
  s.ready.catch(() => {});   // a failed init is reported to whoever awaits it, not as unhandled
  worker.onmessage = (event) => onMessage(s, event.data);
  worker.onerror = (event) => {
    event.preventDefault?.();
    stop(s, `the Kineto worker failed: ${event.message || 'it could not start or it crashed'}`);
  };
  worker.onmessageerror = () => stop(s, 'the Kineto worker sent a message that could not be read');
  worker.postMessage({ type: 'init', weightsUrl, weights: options.weights, mode: options.mode ?? 'auto',
    threads: options.threads });
  return s;
}

// Ends a session: its worker is terminated and every pending call rejects with message.
// The next init() or generate() starts a fresh worker.
function stop(s, message) {
  if (session === s) session = null;
  s.worker.terminate();
  s.rejectReady(stoppedError(message));
  for (const job of s.jobs.values()) job.reject(stoppedError(message));
  s.jobs.clear();
}

// error.workerStopped tells a caller that the worker is gone and the next call starts a new one.
function stoppedError(message) {
  const error = new Error(message);
  error.workerStopped = true;
  return error;
}

function onMessage(s, msg) {
  if (msg.type === 'ready') {
    s.info = msg.info;
    s.vocab = new Set(msg.vocab);
    const { frames, width, height, fps, maxTokens, defaultSteps, defaultGuidance, defaultRenoise } = msg.info;
    s.resolveReady({ mode: msg.mode, info: { frames, width, height, fps, maxTokens, defaultSteps, defaultGuidance,
      defaultRenoise, vocab: msg.vocab, hasEncoder: msg.info.hasEncoder } });
    return;
  }
  if (msg.type === 'init-error') return stop(s, msg.message);
  if (msg.type === 'fatal') return stop(s, msg.message);
  const job = s.jobs.get(msg.id);
  if (!job) return;   // a job already settled (e.g. aborted) still reports its end
  if (msg.type === 'progress') {
    callSafely(job.onProgress, { step: msg.step, total: msg.total });
  } else if (msg.type === 'preview') {
    callSafely(job.onPreview, { step: msg.step, width: s.info.width, height: s.info.height,
      frames: msg.frames.map((b) => new Uint8ClampedArray(b)) });
  } else if (msg.type === 'frames') {
    callSafely(job.onFrames, { first: msg.first, count: msg.count, width: s.info.width, height: s.info.height,
      frames: msg.frames.map((b) => new Uint8ClampedArray(b)) });
  } else if (msg.type === 'done') {
    job.resolve({ width: msg.width, height: msg.height, fps: msg.fps, seed: msg.seed,
      unknownWords: msg.unknownWords, frames: msg.frames.map((b) => new Uint8ClampedArray(b)) });
  } else if (msg.type === 'error') {
    const error = new Error(msg.message);
    error.status = msg.status;
    if (msg.field) error.field = msg.field;
    job.reject(error);
  } else if (msg.type === 'cancelled') {
    job.reject(abortError());
  }
}

function callSafely(callback, value) {
  if (typeof callback !== 'function') return;
  try {
    callback(value);
  } catch (error) {
    console.error('kineto: a generate() callback threw', error);
  }
}

function abortError() {
  return new DOMException('the generation was cancelled', 'AbortError');
}

// request: {prompt (a string, or an array: one shot each), shots ([{prompt, frames}], instead of prompt),
// negativePrompt, seed, steps, guidance, renoise, frames (1..256), seamless, image, onProgress, onPreview,
// onFrames, signal}. Resolves to {width, height, fps, frames: [Uint8ClampedArray RGBA], seed, unknownWords}.
// Rejects with a TypeError/RangeError naming the field for bad input, an AbortError when signal
// aborts (the worker stops within one step), or an Error with the engine's message.
export async function generate(request) {
  const signal = request?.signal;
  if (signal?.aborted) throw abortError();
  if (!session) await init(lastOptions);
  const s = session;
  if (!s) throw new Error('the Kineto worker stopped before the request could start');
  await s.ready;
  if (signal?.aborted) throw abortError();
  const checked = checkRequest(request, s.info, s.vocab);
  // Reading an image takes a while: calls still reach the worker in the order they were made.
  const prepared = imagesRead.then(() => (checked.image ? imageMessage(checked.image, checked.imageKind) : null));
  imagesRead = prepared.catch(() => {});
  const image = await prepared;
  if (signal?.aborted) throw abortError();
  if (session !== s) throw new Error('the Kineto worker stopped before the request could start');
  const id = nextJobId++;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      s.worker.postMessage({ type: 'cancel', id });
      settle(reject, abortError());
    };
    const settle = (fn, value) => {
      if (!s.jobs.delete(id)) return;
      signal?.removeEventListener('abort', onAbort);
      fn(value);
    };
    s.jobs.set(id, {
      onProgress: request.onProgress,
      onPreview: request.onPreview,
      onFrames: request.onFrames,
      resolve: (clip) => settle(resolve, clip),
      reject: (error) => settle(reject, error),
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    const { prompt, shots, negativePrompt, seed, steps, guidance, renoise, frames, seamless } = checked;
    s.worker.postMessage({ type: 'generate', id, prompt, shots, negativePrompt, seed, steps, guidance, renoise, frames,
      seamless, image, previews: typeof request.onPreview === 'function',
      readyFrames: typeof request.onFrames === 'function' }, image ? [image.rgba ?? image.bytes] : []);
  });
}

// The start image as the worker takes it, in a buffer of its own to transfer (the caller's
// ImageData and ImageBitmap stay usable): a file's bytes, or RGBA pixels.
async function imageMessage(image, kind) {
  if (kind === 'file') {
    try {
      return { bytes: await image.arrayBuffer() };
    } catch (error) {
      throw imageError(`could not be read: ${error.message}`);
    }
  }
  if (kind === 'pixels') return { width: image.width, height: image.height, rgba: image.data.slice().buffer };
  if (typeof OffscreenCanvas !== 'function') {
    throw imageError('is an ImageBitmap, which this browser cannot read without OffscreenCanvas: ' +
      'pass an ImageData or a Blob');
  }
  const { width, height } = image;
  const context = new OffscreenCanvas(width, height).getContext('2d');
  context.drawImage(image, 0, 0);
  return { width, height, rgba: context.getImageData(0, 0, width, height).data.buffer };
}

function imageError(message) {
  const error = new Error(`image ${message}`);
  error.field = 'image';
  return error;
}

