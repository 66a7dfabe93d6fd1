// web/lib/kineto.js in Chromium: the build it picks, clips bit-identical to Node's, progress, previews,
// input errors, cancellation, queueing, missing or damaged weights and a crashing worker.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, watch, writeFixtures, sha256 } from '../browser/helpers.mjs';
import { loadTiny, runGeneration, stopThreads } from '../node/load-engine.mjs';

const fixtures = writeFixtures();
const request = { prompt: 'a red ball moving left', seed: 11, steps: 3, guidance: 3 };
let isolated, plain, browser, expected;

before(async () => {
  [isolated, plain, browser] = await Promise.all([startServer({ isolated: true }), startServer({ isolated: false }), launch()]);
  const engine = await loadTiny('simd');
  expected = runGeneration(engine, request).frames.map(sha256);
  engine.free();
  stopThreads();
});
after(async () => {
  await browser?.close();
  isolated?.close();
  plain?.close();
});

async function openBlank(server) {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await page.goto(server.url + fixtures.base + 'blank.html');
  await page.evaluate(async () => { window.kineto = await import('/lib/kineto.js'); });
  return { page, log };
}

// Runs fn(kineto, args) in the page; errors come back as {error: {name, message, field}}.
function inPage(page, fn, args = {}) {
  return page.evaluate(`(async () => {
    try { return await (${fn})(window.kineto, ${JSON.stringify(args)}); }
    catch (e) { return { error: { name: e.name, message: e.message, field: e.field } }; }
  })()`);
}

test('a cross-origin isolated page runs the threaded build and makes the same bits as Node', async () => {
  const { page, log } = await openBlank(isolated);
  const result = await inPage(page, async (kineto, { weightsUrl, request }) => {
    const ready = await kineto.init({ weightsUrl: '/' + weightsUrl });
    const progress = [], previews = [];
    const clip = await kineto.generate({ ...request,
      onProgress: (p) => progress.push(p), onPreview: (p) => previews.push(p.frames.length) });
    return { mode: ready.mode, info: ready.info, isolated: crossOriginIsolated, progress, previews,
      width: clip.width, height: clip.height, fps: clip.fps, seed: clip.seed,
      frameType: clip.frames[0].constructor.name, hashes: await Promise.all(clip.frames.map(sha256Hex)) };
  }, { weightsUrl: fixtures.tiny, request });
  assert.equal(result.error, undefined, result.error?.message);
  assert.equal(result.isolated, true);
  assert.match(result.mode, /^simd\+threads \([1-4]\)$/);
  assert.deepEqual(Object.keys(result.info).sort(),
    ['defaultGuidance', 'defaultRenoise', 'defaultSteps', 'fps', 'frames', 'hasEncoder', 'height', 'maxTokens', 'vocab',
      'width']);
  assert.ok(result.info.vocab.includes('ball') && !result.info.vocab.includes('<null>'));
  assert.deepEqual(result.progress, [1, 2, 3].map((step) => ({ step, total: 3 })));
  assert.deepEqual(result.previews, [4, 4, 4], 'a preview of every frame after every step');
  assert.equal(result.frameType, 'Uint8ClampedArray');
  assert.deepEqual([result.width, result.height, result.seed], [32, 32, 11]);
  assert.deepEqual(result.hashes, expected, 'bit-identical to the Node build');
  assert.deepEqual(log.csp, []);
  await page.close();
});

test('without isolation the SIMD build runs; a forced base build makes the same bits', async () => {
  const { page, log } = await openBlank(plain);
  const result = await inPage(page, async (kineto, { weightsUrl, request }) => {
    const simd = await kineto.init({ weightsUrl: '/' + weightsUrl });
    const simdHashes = await Promise.all((await kineto.generate(request)).frames.map(sha256Hex));
    const base = await kineto.init({ weightsUrl: '/' + weightsUrl, mode: 'base' });
    const baseHashes = await Promise.all((await kineto.generate(request)).frames.map(sha256Hex));
    let threadsError = null;
    await kineto.init({ weightsUrl: '/' + weightsUrl, mode: 'simd-mt' }).catch((e) => { threadsError = e.message; });
    return { simd: simd.mode, base: base.mode, simdHashes, baseHashes, threadsError };
  }, { weightsUrl: fixtures.tiny, request });
  assert.equal(result.error, undefined, result.error?.message);
  assert.equal(result.simd, 'simd');
  assert.equal(result.base, 'base');
  assert.deepEqual(result.simdHashes, expected);
  assert.deepEqual(result.baseHashes, expected);
  assert.match(result.threadsError, /SharedArrayBuffer.*COOP\/COEP/);
  assert.deepEqual(log.csp, []);
  await page.close();
});

test('bad input is rejected with the field and its range, and the worker keeps working', async () => {
  const { page } = await openBlank(isolated);
  const result = await inPage(page, async (kineto, { weightsUrl, request }) => {
    await kineto.init({ weightsUrl: '/' + weightsUrl });
    const bad = [{ prompt: '' }, { prompt: 'zebra okapi' }, { steps: 0 }, { steps: 201 }, { guidance: NaN },
      { guidance: 31 }, { seed: -1 }, { seed: 2 ** 53 }, { seed: 0.5 }, { frames: 257 }, { prompt: 'ball '.repeat(13) },
      { prompt: ['a red ball', ' '] }, { prompt: undefined, shots: [{ prompt: 'a ball', frames: 0 }] },
      { prompt: Array(65).fill('ball'), frames: 65 }, { frames: 1, seamless: true }];
    const errors = [];
    for (const change of bad) {
      errors.push(await kineto.generate({ ...request, ...change }).then(() => null, (e) => ({ field: e.field, message: e.message })));
    }
    const clip = await kineto.generate(request);
    return { errors, frames: clip.frames.length, unknown: kineto.unknownWords('A zebra ball!', (await kineto.init()).info.vocab) };
  }, { weightsUrl: fixtures.tiny, request });
  assert.equal(result.error, undefined, result.error?.message);
  const fields = result.errors.map((e) => e?.field);
  assert.deepEqual(fields, ['prompt', 'prompt', 'steps', 'steps', 'guidance', 'guidance', 'seed', 'seed', 'seed', 'frames', 'prompt',
    'prompt', 'shots', 'prompt', 'seamless']);
  assert.match(result.errors[1].message, /no word the model knows \(unknown: zebra, okapi\)/);
  assert.match(result.errors[3].message, /steps must be an integer from 1 to 200 \(got 201\)/);
  assert.match(result.errors[9].message, /frames must be an integer from 1 to 256 \(got 257\)/);
  assert.match(result.errors[10].message, /too long: 13 known words, at most 12/);
  assert.match(result.errors[11].message, /^prompt\[1\] has no words/);
  assert.match(result.errors[12].message, /^shots\[0\]\.frames must be an integer from 1 to 256 \(got 0\)/);
  assert.match(result.errors[13].message, /has 65 shots, at most 64/);
  assert.match(result.errors[14].message, /seamless needs a clip of at least 2 frames/);
  assert.equal(result.frames, 4);
  assert.deepEqual(result.unknown, ['zebra']);
  await page.close();
});

test('an abort stops the job within a step; concurrent calls queue in order', async () => {
  const { page } = await openBlank(isolated);
  const result = await inPage(page, async (kineto, { weightsUrl, request }) => {
    await kineto.init({ weightsUrl: '/' + weightsUrl });
    const controller = new AbortController();
    const seen = [];
    const long = kineto.generate({ ...request, steps: 200, signal: controller.signal,
      onProgress: ({ step }) => { seen.push(step); if (step === 2) controller.abort(); } });
    const longError = await long.then(() => null, (e) => e.name);
    const stepsAtAbort = seen.length;
    // Queue three; abort the middle one while it waits; the others finish in order.
    const order = [];
    const waiting = new AbortController();
    const calls = [
      kineto.generate({ ...request, seed: 1 }).then(() => order.push(1)),
      kineto.generate({ ...request, seed: 2, signal: waiting.signal }).then(() => order.push(2), (e) => order.push(e.name)),
      kineto.generate({ ...request, seed: 3 }).then(() => order.push(3)),
    ];
    waiting.abort();
    await Promise.all(calls);
    await new Promise((r) => setTimeout(r, 200));   // let a late step report arrive, if any
    const already = await kineto.generate({ ...request, signal: AbortSignal.abort() }).then(() => null, (e) => e.name);
    return { longError, stepsAtAbort, stepsAfter: seen.length, order, already };
  }, { weightsUrl: fixtures.tiny, request });
  assert.equal(result.error, undefined, result.error?.message);
  assert.equal(result.longError, 'AbortError');
  assert.equal(result.stepsAtAbort, 2);
  assert.ok(result.stepsAfter <= 2, `progress after the abort: ${result.stepsAfter}`);
  assert.deepEqual(result.order, ['AbortError', 1, 3]);
  assert.equal(result.already, 'AbortError');
  await page.close();
});

test('missing, damaged or foreign weights give a clear error, then good weights load', async () => {
  const { page, log } = await openBlank(isolated);
  const result = await inPage(page, async (kineto, { base, tiny }) => {
    const missing = await kineto.init({ weightsUrl: '/' + base + 'none.kin' }).then(() => null, (e) => e.message);
    const damaged = await kineto.init({ weightsUrl: '/' + base + 'damaged.kin' }).then(() => null, (e) => e.message);
    const generateError = await kineto.generate({ prompt: 'ball' }).then(() => null, (e) => e.message);
    const elsewhere = await kineto.init({ weightsUrl: 'https://example.com/x.kin' }).then(() => null, (e) => e.message);
    const ok = await kineto.init({ weightsUrl: 'tiny.kin' });   // relative to the page, like a link
    return { missing, damaged, generateError, elsewhere, mode: ok.mode };
  }, fixtures);
  assert.equal(result.error, undefined, result.error?.message);
  assert.match(result.missing, /weights are missing: .*none\.kin answered HTTP 404/);
  assert.match(result.damaged, /checksum|CRC/i);
  assert.match(result.generateError, /checksum|CRC/i, 'generate() retries with the same options and reports');
  assert.match(result.elsewhere, /weightsUrl must be on this page's origin/);
  assert.match(result.mode, /simd/);
  assert.ok(!log.requests.some((u) => u.includes('example.com')), 'no request to another origin');
  await page.close();
});

test('a worker that dies or an engine that traps rejects pending calls; the next call starts a fresh worker', async () => {
  const { page } = await openBlank(isolated);
  const result = await inPage(page, async (kineto, { base, tiny, request }) => {
    await kineto.init({ weightsUrl: '/' + tiny, workerUrl: '/' + base + 'crash-worker.js' });
    const crashed = kineto.generate({ ...request, prompt: 'crash a ball' }).then(() => null, (e) => e.message);
    const queued = kineto.generate(request).then(() => null, (e) => e.message);
    const [crashError, queuedError] = await Promise.all([crashed, queued]);
    const after = await kineto.generate(request);
    const steps = [];
    const trapError = await kineto.generate({ ...request, prompt: 'trap a ball', onProgress: ({ step }) => steps.push(step) })
      .then(() => null, (e) => e.message);
    const afterTrap = await kineto.generate(request);
    return { crashError, queuedError, frames: after.frames.length, trapError, steps, afterTrap: await Promise.all(afterTrap.frames.map(sha256Hex)) };
  }, { ...fixtures, request });
  assert.equal(result.error, undefined, result.error?.message);
  assert.match(result.crashError, /the Kineto worker failed: .*simulated crash/);
  assert.equal(result.queuedError, result.crashError);
  assert.equal(result.frames, 4);
  assert.equal(result.trapError, 'the engine crashed: RuntimeError: memory access out of bounds');
  assert.deepEqual(result.steps, [1]);
  assert.deepEqual(result.afterTrap, expected, 'a fresh worker after the trap makes the right clip');
  await page.close();
});
