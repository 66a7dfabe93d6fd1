// load-engine.mjs — the engine outside a browser, for the Node tests and (paths, native frames) the
// browser tests: web/lib/kineto-engine.js's builds loaded in Node as web/lib/worker.js loads them in a
// browser, and the native CLI's frames for the same request.
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { loadEngine, Engine } from '../../web/lib/kineto-engine.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WEB = path.join(ROOT, 'web');
export const LIB = path.join(WEB, 'lib');
export const WASM = path.join(LIB, 'wasm');
export const TINY = process.env.KINETO_TINY ?? path.join(ROOT, 'tests/fixtures/tiny.kin');
export const VARIANTS = ['simd-mt', 'simd', 'base'];
export const NATIVE_CLIS = ['build/kineto', 'build/nosimd/kineto'].map((p) => path.join(ROOT, p));

// Emscripten's ES-module glue reaches for CommonJS globals when it runs in Node.
globalThis.require ??= createRequire(import.meta.url);
globalThis.__dirname ??= WASM;

// The pthread worker script is CommonJS, but the package is "type": "module"; Node gets a .cjs copy.
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
    modules.set(key, await loadEngine({ mode: variant, threads, moduleOptions }));
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

export function sha256(bytes) {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

// The native CLI's frames as RGBA bytes (its PNGs are RGB or RGBA; alpha is 255 either way).
// request: {prompt, negativePrompt, seed, steps, guidance, renoise, frames}; unset ones are the model's.
export function nativeFrames(request, { cli = NATIVE_CLIS[0], weights = TINY, threads = 1 } = {}) {
  if (!fs.existsSync(cli)) throw new Error(`${path.relative(ROOT, cli)} is missing: run ./build.sh native`);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kineto-cli-'));
  // request.prompts (an array): a storyboard, one --prompt per shot; request.seamless: --seamless
  const prompts = (request.prompts ?? [request.prompt]).flatMap((p) => ['--prompt', p]);
  const args = ['generate', '--weights', weights, ...prompts, '--threads', String(threads), '--out', out];
  if (request.seamless) args.push('--seamless');
  if (request.image) args.push('--image', request.image);   // a PNG or JPEG file: the clip's first frame
  const options = { negativePrompt: '--negative', seed: '--seed', steps: '--steps', guidance: '--guidance',
    renoise: '--renoise', frames: '--frames' };
  for (const [name, flag] of Object.entries(options)) {
    if (request[name] !== undefined && request[name] !== '') args.push(flag, String(request[name]));
  }
  try {
    execFileSync(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const files = fs.readdirSync(out).filter((f) => f.endsWith('.png')).sort();
    return files.map((f) => new Uint8Array(PNG.sync.read(fs.readFileSync(path.join(out, f))).data));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}
