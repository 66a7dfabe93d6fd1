// <kineto-clip> long clips: `|` in the prompt makes shots and `seamless` a loop, giving the native
// CLI's frames for the same --prompt list and --seamless; the first window plays while the worker
// still reports steps to go (seen in the worker's own messages). Through kineto.js, a long clip's
// frames come window by window and an abort ends it in the worker.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CSP, startServer, launch, watch, writeFixtures, nativeHashes } from '../browser/helpers.mjs';

const fixtures = writeFixtures();
let server, browser;

before(async () => {
  fs.writeFileSync(path.join(fixtures.dir, 'long.html'), `<!doctype html><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}"><title>long clips</title>
<script type="module" src="clips.js"></script>
<kineto-clip id="board" prompt="a red ball moving left |a blue square moving up " frames="10" seamless seed="3"
  steps="2" autoplay loop></kineto-clip>
`);
  [server, browser] = await Promise.all([startServer({ isolated: true }), launch()]);
  // Each message from a worker, logged before kineto.js handles it, with what the element holds then.
  await browser.context.addInitScript(() => {
    const RealWorker = window.Worker;
    window.workerLog = [];
    window.Worker = class extends RealWorker {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', ({ data }) => {
          if (!['progress', 'frames', 'done', 'cancelled'].includes(data?.type)) return;
          const el = document.getElementById('board');
          window.workerLog.push({ type: data.type, id: data.id, step: data.step, total: data.total, first: data.first,
            n: data.frames?.length, count: data.count, held: el?.frames.length, playing: el?.playing });
        });
      }
    };
  });
});
after(async () => {
  await browser?.close();
  server?.close();
});

test('shots split by | and the seamless attribute: the CLI\'s storyboard loop, playing before the end', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await page.goto(server.url + fixtures.base + 'long.html');
  await page.waitForFunction(() => {
    const el = document.getElementById('board');
    return el.shadowRoot.querySelector('.status.error') || (el.frames.length > 0 && !el.controller);
  }, null, { timeout: 120_000 });
  const status = await page.evaluate(() => document.getElementById('board').shadowRoot.querySelector('.status').textContent);
  assert.equal(status, '', 'no error, no unknown word');
  const hashes = await page.evaluate(() => Promise.all(document.getElementById('board').frames.map(sha256Hex)));
  const prompts = ['a red ball moving left', 'a blue square moving up'];
  assert.deepEqual(hashes, nativeHashes({ prompts, frames: 10, seamless: true, seed: 3, steps: 2 },
    path.join(fixtures.dir, 'tiny.kin')));
  assert.notDeepEqual(hashes, nativeHashes({ prompts, frames: 10, seed: 3, steps: 2 }, path.join(fixtures.dir, 'tiny.kin')),
    'seamless changes the clip');

  const messages = await page.evaluate(() => window.workerLog);
  const at = messages.findIndex((m) => m.type === 'frames' && m.first === 0);
  assert.ok(at >= 0 && messages[at].n < 10, `the first window came alone: ${JSON.stringify(messages[at])}`);
  const during = messages.slice(at + 1).find((m) => m.type === 'progress' && m.step < m.total);
  assert.ok(during, 'steps were left after the first window');
  assert.equal(during.held, messages[at].n, 'the element holds the first window\'s frames');
  assert.equal(during.playing, true, 'and plays them (autoplay)');
  assert.equal(await page.evaluate(() => document.getElementById('board').shadowRoot.querySelector('canvas')
    .getAttribute('aria-label')), 'a red ball moving left, then a blue square moving up');
  assert.deepEqual(log.csp, []);
  await page.close();
});

test('generate() hands out a long clip window by window, and an abort stops it in the worker', async () => {
  const page = await browser.context.newPage();
  await page.goto(server.url + fixtures.base + 'blank.html');
  const result = await page.evaluate(async (weightsUrl) => {
    const kineto = await import('/lib/kineto.js');
    await kineto.init({ weightsUrl });
    const windows = [];
    const clip = await kineto.generate({ prompt: 'a red ball moving left', frames: 12, seed: 4, steps: 2,
      onFrames: ({ first, count, frames }) => windows.push({ first, count, n: frames.length, hashes: frames.map(String) }) });
    const joined = windows.flatMap((w) => w.hashes);
    const same = joined.length === clip.frames.length && clip.frames.every((f, i) => String(f) === joined[i]);
    // A 256-frame clip aborted as its first frames arrive.
    const controller = new AbortController();
    let abortedAt = null;
    const aborted = await kineto.generate({ prompt: 'a red ball moving left', frames: 256, seed: 4, steps: 2,
      signal: controller.signal,
      onFrames: () => { if (abortedAt === null) { abortedAt = window.workerLog.length; controller.abort(); } },
    }).then(() => 'finished', (e) => e.name);
    return { windows: windows.map(({ first, count, n }) => ({ first, count, n })), same, aborted, abortedAt };
  }, '/' + fixtures.tiny);
  let next = 0;
  for (const w of result.windows) {   // in order, each window's frames after the last's
    assert.equal(w.first, next, JSON.stringify(result.windows));
    next += w.n;
  }
  assert.ok(result.windows.length > 1 && result.windows.every((w) => w.count === 12), JSON.stringify(result.windows));
  assert.equal(result.windows.reduce((n, w) => n + w.n, 0), 12);
  assert.equal(result.same, true, 'the windows together are the clip');
  assert.equal(result.aborted, 'AbortError');
  // the worker's own word on the aborted job: steps it had begun, then 'cancelled', far from its end
  await page.waitForFunction((at) => window.workerLog.slice(at).some((m) => m.type === 'cancelled'), result.abortedAt);
  const after = await page.evaluate((at) => window.workerLog.slice(at), result.abortedAt);
  const last = after.find((m) => m.type === 'cancelled');
  const steps = after.filter((m) => m.type === 'progress' && m.id === last.id);
  assert.equal(after.some((m) => m.type === 'done' && m.id === last.id), false);
  assert.ok(steps.every((m) => m.step < m.total / 2), `stopped early: ${JSON.stringify(steps)}`);
  console.log(`aborted 256-frame clip: the worker reported steps ${JSON.stringify(steps.map((m) => m.step))} of ` +
    `${steps[0]?.total ?? '?'} after the abort`);
  await page.close();
});
