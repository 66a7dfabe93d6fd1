// One reading of every request: a table of hostile strings and seeds goes through the JS checks
// (checkRequest), the WebAssembly engine (kineto-engine.js, as the worker drives it) and the native
// CLI, and all three must agree: refused by all, or accepted by all with the same unknown words and
// the same frames. A NUL or a lone surrogate has no place in a command line (argv is NUL-terminated
// bytes), so those rows run through JS and WebAssembly only.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { checkRequest } from '../../web/lib/kineto-request.js';
import { NATIVE_CLIS, TINY, loadTiny, runGeneration, stopThreads } from './load-engine.mjs';

after(stopThreads);

const CLI = NATIVE_CLIS[0];
const hash = (frames) => crypto.createHash('sha256').update(Buffer.concat(frames.map((f) => Buffer.from(f)))).digest('hex');

// [label, request]; every request gets steps 1. `cli: false` where argv cannot carry the string.
const ROWS = [
  ['plain', { prompt: 'a red ball' }],
  ['NUL in the middle', { prompt: 'red\u0000 ball bouncing' }, { cli: false }],
  ['NUL first', { prompt: '\u0000red ball' }, { cli: false }],
  ['NUL in the negative prompt', { prompt: 'red', negativePrompt: 'blue\u0000ball' }, { cli: false }],
  ['lone low surrogate', { prompt: 'ball \udc00red' }, { cli: false }],
  ['lone high surrogate', { prompt: '\ud800red' }, { cli: false }],
  ['lone surrogate in the negative prompt', { prompt: 'red', negativePrompt: 'ball \ud83d' }, { cli: false }],
  ['a whole surrogate pair', { prompt: 'red \ud83d\udd34 ball' }],
  ['C0 controls and DEL', { prompt: 'red\u0001\u0002 ball\u001b[31m\u007f left' }],
  ['tab, CR, LF', { prompt: '\tred\r\nball\n' }],
  ['C1 controls', { prompt: 'red\u0085ball\u009b31m' }],
  ['combining marks', { prompt: 're\u0301d ba\u0308ll' }],
  ['decomposed letters around known words', { prompt: 'red \u0065\u0301 ball' }],
  ['Kelvin sign and dotted capital I', { prompt: 'RED \u212Aite \u0130ball' }],
  ['fullwidth letters', { prompt: '\uff52\uff45\uff44 ball' }],
  ['emoji with joiners', { prompt: 'a red 👩‍👩‍👧 ball' }],
  ['BOM and zero-width space', { prompt: '\ufeffred\u200bball' }],
  ['only separators', { prompt: ' \t\u00a0\u2003 ' }],
  ['only unknown words', { prompt: 'zorbly florp' }],
  ['HTML', { prompt: '<img src=x onerror=alert(1)> red' }],
  ['apostrophes', { prompt: "red ball's ''" }],
  ['known-word limit in the prompt', { prompt: 'red '.repeat(5) }],
  ['known-word limit in the negative prompt', { prompt: 'red', negativePrompt: 'blue '.repeat(30) }],
  ['unknown words in the negative prompt', { prompt: 'red', negativePrompt: 'zebra ball qwerty' }],
  ['4096 bytes', { prompt: 'red ' + 'x'.repeat(4092) }],
  ['4097 bytes', { prompt: 'red ' + 'x'.repeat(4093) }],
  ['4097 bytes of two-byte letters', { prompt: 'red ' + '\u00e9'.repeat(2046) + 'x' }],
  ['seed 0', { prompt: 'red', seed: '0' }],
  ['seed 010 (decimal ten)', { prompt: 'red', seed: '010' }],
  ['seed 2^32', { prompt: 'red', seed: '4294967296' }],
  ['seed 2^53 + 1', { prompt: 'red', seed: '9007199254740993' }],
  ['seed 2^64 - 1', { prompt: 'red', seed: '18446744073709551615' }],
  ['seed 2^64', { prompt: 'red', seed: '18446744073709551616' }],
  ['seed -1', { prompt: 'red', seed: '-1' }],
  ['seed " -1"', { prompt: 'red', seed: ' -1' }],
  ['seed "+1"', { prompt: 'red', seed: '+1' }],
  ['seed 0x10', { prompt: 'red', seed: '0x10' }],
  ['seed 1e3', { prompt: 'red', seed: '1e3' }],
  ['seed empty', { prompt: 'red', seed: '' }],
];

function viaJs(request, info, vocab) {
  try {
    return { ok: true, unknown: checkRequest(request, info, vocab).unknownWords };
  } catch (error) {
    return { ok: false, why: error.message };
  }
}

function viaWasm(engine, request) {
  try {
    const clip = runGeneration(engine, request);
    return { ok: true, unknown: clip.unknownWords, frames: hash(clip.frames) };
  } catch (error) {
    engine.end();
    return { ok: false, why: error.message };
  }
}

function viaCli(request) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kineto-agree-'));
  const args = ['generate', '--weights', TINY, '--prompt', request.prompt, '--steps', '1', '--threads', '1', '--out', out, '--force'];
  if (request.negativePrompt !== undefined) args.push('--negative', request.negativePrompt);
  if (request.seed !== undefined) args.push('--seed', request.seed);
  try {
    const r = spawnSync(CLI, args, { encoding: 'utf8' });
    if (r.status !== 0) return { ok: false, why: r.stderr.trim() };
    const unknown = [...r.stderr.matchAll(/^warning: unknown words in the (?:negative )?prompt: (.*)$/gm)]
      .flatMap((m) => m[1].split(' '));
    const files = fs.readdirSync(out).filter((f) => f.endsWith('.png')).sort();
    const frames = files.map((f) => PNG.sync.read(fs.readFileSync(path.join(out, f))).data);
    return { ok: true, unknown, frames: hash(frames) };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

test('checkRequest, the WebAssembly engine and the CLI read every request the same way', async () => {
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run ./build.sh native`);
  const engine = await loadTiny('simd');
  const vocab = new Set(engine.vocab);
  const info = { ...engine.info, vocab: engine.vocab };
  let accepted = 0;
  for (const [label, fields, { cli = true } = {}] of ROWS) {
    const request = { ...fields, steps: 1 };
    const js = viaJs(request, info, vocab);
    const wasm = viaWasm(engine, request);
    const results = { js: js.ok, wasm: wasm.ok };
    const native = cli ? viaCli(request) : null;
    if (native) results.cli = native.ok;
    const say = `${label}: ${JSON.stringify(results)} (${[js, wasm, native].map((r) => r?.why).filter(Boolean).join(' | ')})`;
    assert.ok(Object.values(results).every((ok) => ok === js.ok), say);
    if (!js.ok) continue;
    accepted++;
    assert.deepEqual(wasm.unknown, js.unknown, `${label}: unknown words, WebAssembly vs JS`);
    if (native) {
      assert.deepEqual(native.unknown, js.unknown, `${label}: unknown words, CLI vs JS`);
      assert.equal(native.frames, wasm.frames, `${label}: frames, CLI vs WebAssembly`);
    }
  }
  assert.ok(accepted >= 10 && accepted < ROWS.length, `${accepted} of ${ROWS.length} rows accepted: the table tests both outcomes`);
});

test('the same seed read two ways gives the same clip, and another seed another clip', async () => {
  const engine = await loadTiny('simd');
  const run = (seed) => viaWasm(engine, { prompt: 'red ball', steps: 1, seed }).frames;
  assert.equal(run('010'), run(10));
  assert.equal(run('9007199254740993'), run(9007199254740993n));
  assert.notEqual(run('9007199254740993'), run('9007199254740992'), 'seeds past 2^53 stay exact');
  assert.equal(run('18446744073709551615'), viaCli({ prompt: 'red ball', seed: '18446744073709551615' }).frames);
});
