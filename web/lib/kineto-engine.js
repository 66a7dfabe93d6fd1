// kineto-engine.js — the WebAssembly engine from JavaScript: picks a build, loads a model and runs
// one generation through the flat C API of src/bindings/wasm_api.c. Used by worker.js in the
// browser and by the Node tests, so both exercise the same code. The builds are in ./wasm/, found
// relative to this module.

import { parseSeed, wellFormed } from './kineto-request.js';

// The smallest module that uses a SIMD instruction: () -> v128 { v128.const 0 }.
// WebAssembly.validate accepts it only where 128-bit SIMD is supported.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // "\0asm", version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,        // type section: () -> v128
  0x03, 0x02, 0x01, 0x00,                          // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c,        // code section: no locals, v128.const ...
  ...new Array(16).fill(0x00), 0x0b,               // ... sixteen zero bytes, end
]);

export const VARIANTS = {
  'simd-mt': { file: 'kineto-simd-mt', exportName: 'createKinetoSimdMt' },
  simd: { file: 'kineto-simd', exportName: 'createKinetoSimd' },
  base: { file: 'kineto-base', exportName: 'createKinetoBase' },
};
export const MAX_THREADS = 4;   // the pool the threaded build starts (and the engine's useful limit here)

export function simdSupported() {
  return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
}

// Threads need shared memory, which browsers give only to cross-origin isolated pages (COOP/COEP).
export function threadsSupported() {
  if (typeof SharedArrayBuffer !== 'function' || globalThis.crossOriginIsolated === false) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

export function pickVariant() {
  if (!simdSupported()) return 'base';
  return threadsSupported() ? 'simd-mt' : 'simd';
}

export function describeMode(variant, threads) {
  return variant === 'simd-mt' ? `simd+threads (${threads})` : variant;
}

// Loads the Emscripten module of a build. options.mode: 'auto' (default) or a VARIANTS key;
// options.moduleOptions: extra settings for the Emscripten factory (the Node tests pass wasmBinary
// and the pthread worker's location there).
export async function loadEngine({ mode = 'auto', threads, moduleOptions = {} } = {}) {
  const variant = mode === 'auto' || mode == null ? pickVariant() : mode;
  if (!VARIANTS[variant]) throw new Error(`mode must be one of auto, ${Object.keys(VARIANTS).join(', ')} (got ${mode})`);
  if (variant !== 'base' && !simdSupported()) throw new Error(`mode ${variant} needs WebAssembly SIMD, which this browser lacks`);
  if (variant === 'simd-mt' && !threadsSupported()) {
    throw new Error('mode simd-mt needs SharedArrayBuffer: serve the page cross-origin isolated (COOP/COEP headers)');
  }
  const hardware = globalThis.navigator?.hardwareConcurrency || 2;
  const threadCount = variant === 'simd-mt' ? clampThreads(threads ?? hardware) : 1;
  // A build may come with its factory (the single-file page inlines them); else it is imported.
  const { file, factory: inlined } = VARIANTS[variant];
  const scriptUrl = inlined ? undefined : new URL(`./wasm/${file}.js`, import.meta.url).href;
  let factory = inlined;
  try {
    factory ??= (await import(scriptUrl)).default;
  } catch (error) {
    throw new Error(`could not load the engine ${scriptUrl} (${error.message}); build it with ./build.sh wasm`);
  }
  let module;
  try {
    module = await factory({
      mainScriptUrlOrBlob: scriptUrl,
      pthreadPoolSize: Math.max(1, threadCount - 1),   // the calling thread runs a share itself
      print: () => {},
      printErr: (line) => console.warn(line),
      ...moduleOptions,
    });
  } catch (error) {
    throw new Error(explainStartFailure(variant, error));
  }
  return { module, variant, threads: threadCount, mode: describeMode(variant, threadCount) };
}

function explainStartFailure(variant, error) {
  const detail = String(error?.message ?? error).replace(/^Aborted\((.*)\)\..*$/s, '$1');
  const hint = /Content Security/i.test(detail)
    ? ": the page's Content-Security-Policy must allow 'wasm-unsafe-eval' in script-src" : '';
  return `could not start the ${variant} WebAssembly engine${hint} (${detail})`;
}

function clampThreads(n) {
  return Math.max(1, Math.min(MAX_THREADS, Math.floor(Number(n)) || 1));
}

// An error the engine reported: status is kineto_status_str's text, message kineto_last_error's.
// field: the request's field it names, where one is to blame ('image' for a file the decoder refused).
export class EngineError extends Error {
  constructor(status, message, field) {
    super(message || status);
    this.name = 'EngineError';
    this.status = status;
    if (field) this.field = field;
  }
}

// An ArrayBuffer or any view of one as its bytes.
const byteView = (data) => (ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  : new Uint8Array(data));

const INFO_JSON_BYTES = 1024;   // kineto_js_info's object is about 250 bytes
const utf8 = new TextEncoder();

// One loaded model in one Emscripten module. Methods throw EngineError for what the engine
// refuses; anything else thrown (a WebAssembly.RuntimeError) means the module trapped.
export class Engine {
  constructor(loaded, weights) {
    this.m = loaded.module;
    this.mode = loaded.mode;
    this.threads = loaded.threads;
    this.ctx = this.load(weights instanceof ArrayBuffer ? new Uint8Array(weights) : weights);
    this.info = this.readInfo();
    this.vocab = [];
    for (let i = 1; i < this.info.vocabSize; i++) this.vocab.push(this.m.UTF8ToString(this.m._kineto_vocab_word(this.ctx, i)));
    this.clip = 0;        // malloc'd RGBA buffer of the current generation
    this.clipBytes = 0;
    this.framesSent = 0;  // frames takeReadyFrames has returned
    this.seed = 0;
  }

  heap() {
    // A threaded build's memory can grow from another thread; always view the current buffer.
    return this.m.wasmMemory ? new Uint8Array(this.m.wasmMemory.buffer) : this.m.HEAPU8;
  }

  malloc(bytes) {
    const ptr = this.m._malloc(bytes);
    if (!ptr) throw new EngineError('out of memory', `out of memory: could not allocate ${bytes} bytes`);
    return ptr;
  }

  load(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('weights must be an ArrayBuffer or Uint8Array');
    const ptr = this.malloc(Math.max(1, bytes.length));
    try {
      this.heap().set(bytes, ptr);
      const ctx = this.m._kineto_js_load(ptr, bytes.length);   // copies; verifies the checksum
      if (!ctx) throw this.lastError(this.m._kineto_js_load_status());
      return ctx;
    } finally {
      this.m._free(ptr);
    }
  }

  lastError(status) {
    return new EngineError(this.m.UTF8ToString(this.m._kineto_status_str(status)),
      this.m.UTF8ToString(this.m._kineto_last_error()));
  }

  check(status) {
    if (status !== 0) throw this.lastError(status);
  }

  // The model's info as the C side names it (wasm_api.c writes it as a JSON object).
  readInfo() {
    const ptr = this.malloc(INFO_JSON_BYTES);
    try {
      const n = this.m._kineto_js_info(this.ctx, ptr, INFO_JSON_BYTES);
      if (n < 0) throw new EngineError('invalid argument', 'kineto_js_info failed');
      return JSON.parse(this.m.UTF8ToString(ptr, n));
    } finally {
      this.m._free(ptr);
    }
  }

  // text as a NUL-terminated UTF-8 string on the heap, for a caller that frees it.
  cString(field, text) { return this.cStrings([[field, text]], []); }

  // request: {prompt, shots, negativePrompt, seed, steps, guidance, renoise, frames, seamless} as
  // checkRequest returns it (the engine checks it too). shots [{prompt, frames}]: a storyboard;
  // without it, one shot of prompt over `frames` frames (0: the model's window). image: the clip's
  // first frame, as {width, height, rgba} (RGBA8 bytes) or {bytes} (a PNG or JPEG file's bytes).
  begin({ prompt, shots, negativePrompt = '', seed = 0, steps = 0, guidance, renoise, frames = 0, seamless = false,
    image = null }) {
    this.end();
    const texts = shots ? shots.map((shot, i) => [`shots[${i}].prompt`, String(shot.prompt ?? '')])
      : [['prompt', String(prompt ?? '')]];
    const held = [];   // heap blocks to free once kineto_begin has copied what it needs
    try {
      const promptsPtr = this.cStrings(texts, held);
      const negativePtr = this.cStrings([['negativePrompt', String(negativePrompt ?? '')]], held);
      let shotFramesPtr = 0;
      if (shots) {
        shotFramesPtr = this.malloc(4 * shots.length);
        held.push(shotFramesPtr);
        new Int32Array(this.heap().buffer, shotFramesPtr, shots.length).set(shots.map((shot) => shot.frames));
      }
      const start = image ? this.imageOnHeap(image, held) : { ptr: 0, width: 0, height: 0 };
      const seed64 = BigInt(parseSeed(seed));
      // The one call into kineto_js_begin_clip; overlap 0 is the engine's default, as the CLI's.
      this.check(this.m._kineto_js_begin_clip(this.ctx, promptsPtr, shotFramesPtr, shots ? shots.length : 0,
        negativePtr, Number(seed64 & 0xffffffffn), Number(seed64 >> 32n), steps,
        guidance ?? this.info.defaultGuidance, renoise ?? this.info.defaultRenoise, frames, this.threads, 0,
        seamless ? 1 : 0, start.ptr, start.width, start.height));
    } finally {
      held.forEach((ptr) => this.m._free(ptr));
    }
    this.seed = seed;
    this.clipBytes = this.m._kineto_js_clip_bytes(this.ctx);
    this.clip = this.malloc(this.clipBytes);
    this.framesSent = 0;
  }

  // A start image's RGBA pixels on the heap, in a block put in held (kineto_begin encodes the image
  // and keeps none of it): {width, height, rgba} copied, {bytes} decoded by kineto_js_decode_image,
  // the CLI's --image decoder, so a file gives the CLI's pixels.
  imageOnHeap(image, held) {
    if (image.bytes === undefined) {
      const rgba = byteView(image.rgba);
      if (rgba.length !== image.width * image.height * 4) {
        throw new EngineError('invalid argument', `image has ${rgba.length} bytes of RGBA, not ${image.width}x${image.height}x4`,
          'image');
      }
      const ptr = this.malloc(Math.max(1, rgba.length));
      held.push(ptr);
      this.heap().set(rgba, ptr);
      return { ptr, width: image.width, height: image.height };
    }
    const bytes = byteView(image.bytes);
    const file = this.malloc(Math.max(1, bytes.length));
    try {
      this.heap().set(bytes, file);
      const ptr = this.m._kineto_js_decode_image(file, bytes.length);
      if (!ptr) {
        const why = this.m.UTF8ToString(this.m._kineto_js_image_error());
        throw new EngineError('invalid argument', /^out of memory/.test(why) ? `image could not be decoded: ${why}`
          : `image is ${why}`, 'image');
      }
      held.push(ptr);
      return { ptr, width: this.m._kineto_js_image_width(), height: this.m._kineto_js_image_height() };
    } finally {
      this.m._free(file);
    }
  }

  // [field, text] pairs as NUL-terminated UTF-8 strings one after another on the heap (the layout
  // kineto_js_begin_clip reads shots' prompts in); the block goes into held for the caller to free.
  cStrings(texts, held) {
    const encoded = texts.map(([field, text]) => {
      // A NUL inside would end the C string early and a lone surrogate has no UTF-8 form: both are
      // refused, as checkRequest refuses them.
      if (text.includes('\0')) throw new EngineError('invalid argument', `${field} contains a NUL character`);
      if (!wellFormed(text)) throw new EngineError('invalid argument', `${field} contains a lone UTF-16 surrogate`);
      return utf8.encode(text);
    });
    const ptr = this.malloc(encoded.reduce((n, bytes) => n + bytes.length + 1, 0));
    held.push(ptr);
    const heap = this.heap();
    let at = ptr;
    for (const bytes of encoded) {
      heap.set(bytes, at);
      heap[at + bytes.length] = 0;
      at += bytes.length + 1;
    }
    return ptr;
  }

  step() { this.check(this.m._kineto_step(this.ctx)); }
  stepsDone() { return this.m._kineto_steps_done(this.ctx); }
  stepsTotal() { return this.m._kineto_steps_total(this.ctx); }
  done() { return this.m._kineto_done(this.ctx) !== 0; }
  frameCount() { return this.m._kineto_frames(this.ctx); }
  framesReady() { return this.m._kineto_frames_ready(this.ctx); }
  generationBytes() { return this.m._kineto_generation_bytes(this.ctx); }
  unknownWords() {
    const text = this.m.UTF8ToString(this.m._kineto_unknown_words(this.ctx));
    return text ? text.split(' ') : [];
  }

  // The cheap preview and the full decode, as one ArrayBuffer of RGBA bytes per frame.
  preview() { return this.readClip(this.m._kineto_preview); }
  decode() { return this.readClip(this.m._kineto_decode); }

  readClip(render) {
    if (!this.clip) throw new EngineError('call out of order', 'no generation is running');
    this.check(render(this.ctx, this.clip, this.clipBytes));
    return this.copyFrames(0, this.frameCount());
  }

  // Frames that became final since the last call, fully decoded: {first, frames: [ArrayBuffer]}, the
  // frames empty when none did. Once done, every frame has been returned by some call; their bytes
  // are decode()'s.
  takeReadyFrames() {
    if (!this.clip) throw new EngineError('call out of order', 'no generation is running');
    const first = this.framesSent;
    const count = this.framesReady() - first;
    if (count <= 0) return { first, frames: [] };
    this.check(this.m._kineto_decode_range(this.ctx, first, count, this.clip, this.clipBytes));
    this.framesSent += count;
    return { first, frames: this.copyFrames(0, count) };
  }

  // Frames first..first+count-1 of the clip buffer, each a copy the caller may transfer.
  copyFrames(first, count) {
    const frameBytes = this.clipBytes / this.frameCount();
    const heap = this.heap();
    const out = [];
    for (let f = first; f < first + count; f++) {
      const start = this.clip + f * frameBytes;
      out.push(heap.slice(start, start + frameBytes).buffer);
    }
    return out;
  }

  end() {
    this.m._kineto_end(this.ctx);
    if (this.clip) this.m._free(this.clip);
    this.clip = 0;
    this.clipBytes = 0;
  }

  free() {
    this.end();
    this.m._kineto_free(this.ctx);
    this.ctx = 0;
  }
}
