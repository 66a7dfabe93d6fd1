// worker.js — Kineto's engine in a dedicated module Worker: picks the WebAssembly build this browser
// runs best, loads the model once, then runs generation requests one at a time, step by step, so
// that progress, previews and cancellation reach the page between steps.
//
// Page -> worker: {type:'init', weightsUrl | weights, mode, threads}
//                 {type:'generate', id, prompt, shots, negativePrompt, seed, steps, guidance, renoise, frames,
//                  seamless, image, previews, readyFrames}: image null, {width, height, rgba: ArrayBuffer}
//                  or {bytes: ArrayBuffer} (a PNG or JPEG file, decoded here by the CLI's decoder)
//                 {type:'cancel', id}
// Worker -> page: {type:'ready', mode, info, vocab} | {type:'init-error', message}
//                 {type:'progress', id, step, total} | {type:'preview', id, step, frames:[ArrayBuffer]}
//                 {type:'frames', id, first, frames:[ArrayBuffer], count}: frames first.. are final
//                   (sent when readyFrames asks; count is the clip's frames)
//                 {type:'done', id, width, height, fps, frames:[ArrayBuffer], seed, unknownWords}
//                 {type:'error', id, message, status, field} | {type:'cancelled', id}
//                 {type:'fatal', message}: the engine trapped; the page must start a new worker.

import { loadEngine, Engine } from './kineto-engine.js';

let engine = null;
let broken = null;          // the message of a trap: the module's state is unknown after one
const queue = [];           // generate requests not yet started
let running = null;         // the request being stepped
let pumping = false;

self.onmessage = (event) => {
  const msg = event.data;
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'init') init(msg);
  else if (msg.type === 'generate') { queue.push(msg); pump(); }
  else if (msg.type === 'cancel') cancel(msg.id);
};

async function init(msg) {
  try {
    const weights = msg.weights ?? await fetchWeights(msg.weightsUrl);
    const loaded = await loadEngine({ mode: msg.mode, threads: msg.threads });
    engine = new Engine(loaded, weights);
    self.postMessage({ type: 'ready', mode: engine.mode, info: engine.info, vocab: engine.vocab });
  } catch (error) {
    self.postMessage({ type: 'init-error', message: error.message });
  }
}

async function fetchWeights(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`could not fetch the model weights at ${url}: ${error.message}`);
  }
  if (!response.ok) {
    throw new Error(`the model weights are missing: ${url} answered HTTP ${response.status}` +
      ' (train or download a model into weights/kineto-world.kin, then run ./build.sh wasm)');
  }
  return response.arrayBuffer();
}

function cancel(id) {
  const index = queue.findIndex((job) => job.id === id);
  if (index >= 0) {
    queue.splice(index, 1);
    self.postMessage({ type: 'cancelled', id });
  } else if (running && running.id === id) {
    running.cancelled = true;
  }
}

async function pump() {
  if (pumping) return;
  pumping = true;
  while (queue.length) {
    running = queue.shift();
    await run(running);
    running = null;
  }
  pumping = false;
}

// One generation; every outcome is a message, never an exception out of the worker.
async function run(job) {
  const post = (type, extra = {}, transfer = []) => self.postMessage({ type, id: job.id, ...extra }, transfer);
  if (broken) return post('error', { message: `the engine stopped earlier: ${broken}` });
  if (!engine) return post('error', { message: 'the engine is not initialised: send init first' });
  try {
    engine.begin(job);
    const total = engine.stepsTotal();
    const count = engine.frameCount();
    const finalFrames = [];   // every frame, decoded as it becomes final
    while (!engine.done()) {
      await nextTask();   // lets a cancel message in
      if (job.cancelled) { engine.end(); return post('cancelled'); }
      engine.step();
      const step = engine.stepsDone();
      post('progress', { step, total });
      if (job.previews) {
        const frames = engine.preview();
        post('preview', { step, frames }, frames);
      }
      // A long clip's first windows are final long before its end: decoded now, they can play.
      const ready = engine.takeReadyFrames();
      if (ready.frames.length) {
        finalFrames.push(...ready.frames);
        if (job.readyFrames) post('frames', { first: ready.first, frames: ready.frames, count });
      }
    }
    const frames = finalFrames.length === count ? finalFrames : engine.decode();
    const { width, height, fps } = engine.info;
    const unknownWords = engine.unknownWords();
    engine.end();
    post('done', { width, height, fps, frames, seed: job.seed, unknownWords }, frames);
  } catch (error) {
    if (error.status !== undefined) {
      engine.end();
      return post('error', { message: error.message, status: error.status, field: error.field });
    }
    // A trap (out of bounds, unreachable, stack overflow) leaves the module unusable.
    broken = `${error.name}: ${error.message}`;
    self.postMessage({ type: 'fatal', message: `the engine crashed: ${broken}` });
  }
}

// Resolves after the event loop has had a turn, without setTimeout's 4 ms clamp.
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()();
function nextTask() {
  return new Promise((resolve) => { waiting.push(resolve); channel.port2.postMessage(0); });
}
