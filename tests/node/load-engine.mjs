// load-engine.mjs — loads web/kineto-engine.js's builds in Node, as web/worker.js does in a browser.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadEngine, Engine } from '../../web/kineto-engine.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WEB = path.join(ROOT, 'web');
export const WASM = path.join(WEB, 'wasm');
export const TINY = process.env.KINETO_TINY ?? path.join(ROOT, 'tests/fixtures/tiny.kin');
export const VARIANTS = ['simd-mt', 'simd', 'base'];

// Emscripten's ES-module glue reaches for CommonJS globals when it runs in Node.
globalThis.require ??= createRequire(import.meta.url);
globalThis.__dirname ??= WASM;

// The pthread worker script is CommonJS, but web/ is "type": "module"; Node gets a .cjs copy.
function pthreadWorkerCopy(file) {
  const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kineto-')), `${file}.worker.cjs`);
  fs.copyFileSync(path.join(WASM, `${file}.worker.js`), copy);
  return copy;
}

export function builtVariants() {
  return VARIANTS.filter((v) => fs.existsSync(path.join(WASM, `kineto-${v}.wasm`)));
}

const modules = new Map();

// The Emscripten module of a build (one per variant and thread count, kept for the whole file).
export async function loadModule(variant, threads = 2) {
  const key = `${variant}/${threads}`;
  if (!modules.has(key)) {
    const file = `kineto-${variant}`;
    const moduleOptions = { wasmBinary: fs.readFileSync(path.join(WASM, `${file}.wasm`)) };
    if (variant === 'simd-mt') {
      const worker = pthreadWorkerCopy(file);
      moduleOptions.locateFile = (name) => (name.endsWith('.worker.js') ? worker : path.join(WASM, name));
    }
    modules.set(key, await loadEngine({ mode: variant, threads, baseUrl: new URL('../../web/', import.meta.url), moduleOptions }));
  }
  return modules.get(key);
}

export async function loadTiny(variant, threads) {
  return new Engine(await loadModule(variant, threads), fs.readFileSync(TINY));
}

// Runs a whole generation; returns {frames: [Uint8Array], previews: number, unknownWords}.
export function runGeneration(engine, request) {
  engine.begin(request);
  let previews = 0;
  while (!engine.done()) {
    engine.step();
    previews += engine.preview().length > 0 ? 1 : 0;
  }
  const frames = engine.decode().map((b) => new Uint8Array(b));
  const unknownWords = engine.unknownWords();
  engine.end();
  return { frames, previews, unknownWords };
}

// Lets node --test exit: pthread workers would keep the process alive.
export function stopThreads() {
  for (const loaded of modules.values()) loaded.module.PThread?.terminateAllThreads();
  modules.clear();
}
