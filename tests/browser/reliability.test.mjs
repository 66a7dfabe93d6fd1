// The page under hostile input and long use: prompts stay text, nothing is fetched from another
// origin (worker included), no served script uses eval, the CSP holds, a dead worker is reported and
// replaced without a reload, and 50 generations in one page stay within a memory bound.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launch, watch, openApp, fillSettings, generate, waitIdle, clipFrames, assertSameOrigin,
  appUrl, ROOT } from './helpers.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

const POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";
const EVAL = /(^|[^A-Za-z0-9_$.])eval\s*\(|new\s+Function\s*\(|(^|[^A-Za-z0-9_$.])Function\s*\(\s*['"`]|set(Timeout|Interval)\s*\(\s*['"`]/;

// Records CSP violations and dialogs (an alert() from injected markup) in every page of the context.
async function guard(page) {
  await page.addInitScript(() => {
    window.violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  return dialogs;
}

test('hostile prompts are shown as text and get clear messages', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  const dialogs = await guard(page);
  await openApp(page, await appUrl(server, 'nosw'));
  const hostile = '<img src=x onerror="window.pwned=1"> a red ball <script>window.pwned=2</script> 🔴 \u0007';
  const images = await page.locator('img').count();
  await generate(page, { prompt: hostile, seed: 3, steps: 1 });
  assert.match(await page.textContent('#status'), /Made “<img src=x onerror="window.pwned=1"> a red ball <script>/);
  assert.match(await page.textContent('#status'), /Ignored: img, src, x, onerror, window, pwned, 1, script/);
  assert.equal(await page.locator('img').count(), images, 'no element made from the prompt');
  assert.equal(await page.locator('#history-list script, #status script, #status img').count(), 0);
  assert.match(await page.textContent('#history-list'), /<img src=x/, 'the history shows the prompt as text');
  assert.equal(await page.evaluate(() => window.pwned), undefined);

  for (const [prompt, pattern] of [
    ['zorbly florp', /zorbly|word|vocabulary|know/i],
    ['\u0001\u0002 \t ', /Type a prompt|no words/i],
    ['🔴 ⚽', /Type a prompt|no words/i],
  ]) {
    await fillSettings(page, { prompt, steps: 1 });
    await page.click('#generate');
    await waitIdle(page);
    assert.match(await page.textContent('#status'), pattern, `message for ${JSON.stringify(prompt)}`);
    assert.equal(await page.isEnabled('#generate'), true);
  }
  // Text that cannot reach the engine as it reads: refused by name, before a generation starts.
  for (const [prompt, pattern] of [
    ['a red\u0000 ball', /^prompt contains a NUL character/],
    ['a red \ud800 ball', /^prompt contains a lone UTF-16 surrogate/],
  ]) {
    const runs = await page.evaluate(() => document.body.dataset.runs);
    await page.evaluate((prompt) => { document.getElementById('prompt').value = prompt; }, prompt);
    await page.click('#generate');
    assert.match(await page.textContent('#status'), pattern, `message for ${JSON.stringify(prompt)}`);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'prompt', 'focus moves to the prompt');
    assert.equal(await page.evaluate(() => document.body.dataset.runs), runs, 'no generation started');
  }
  // 100 KB typed or pasted: the field keeps at most its limit; through a link it is refused by name.
  await page.evaluate(() => { const p = document.getElementById('prompt'); p.value = 'red '.repeat(25_000); p.dispatchEvent(new Event('input')); });
  await page.click('#generate');
  await waitIdle(page);
  assert.match(await page.textContent('#status'), /prompt.*(too long|at most)/i);
  assert.equal(await page.isEnabled('#generate'), true);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(await page.evaluate(() => window.violations), []);
  assertSameOrigin(log, server.url);
  await page.close();
});

test('no request leaves the origin, no served script uses eval, and the page runs under its CSP', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await guard(page);
  await openApp(page, await appUrl(server));   // with the service worker: its fetches are watched too
  await generate(page, { prompt: 'a blue square', seed: 2, steps: 2 });
  assert.equal(await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content'), POLICY);
  assert.deepEqual(await page.evaluate(() => window.violations), []);
  assert.deepEqual(log.csp, []);
  assertSameOrigin(log, server.url);
  assert.ok(log.requests.some((u) => /\/worker\.js$/.test(u)) && log.requests.some((u) => /\.wasm$/.test(u)),
    'the worker and the engine were loaded (their requests are watched)');

  // Every script the browser fetched, as served, then every script under web/ on disk.
  const scripts = [...new Set(log.requests.filter((u) => /\.m?js(\?|$)/.test(u)))];
  assert.ok(scripts.some((u) => /kineto-simd(-mt)?\.js/.test(u)), 'the Emscripten glue is among them');
  for (const url of scripts) {
    const text = await (await fetch(url)).text();
    assert.doesNotMatch(text, EVAL, `${url} uses eval or new Function`);
  }
  const files = execFileSync('find', [path.join(ROOT, 'web'), '-name', '*.js', '-o', '-name', '*.mjs'], { encoding: 'utf8' })
    .trim().split('\n');
  assert.ok(files.length > 10);
  for (const file of files) assert.doesNotMatch(fs.readFileSync(file, 'utf8'), EVAL, `${file} uses eval or new Function`);

  // A link that points the page at weights on another origin is refused without a request there.
  const other = server.url.replace('127.0.0.1', 'localhost') + 'lib/wasm/test-tiny.kin';
  const page2 = await browser.context.newPage();
  const log2 = watch(browser.context, page2);
  await page2.goto(server.url + 'app/?nosw&weights=' + encodeURIComponent(other));
  await page2.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 30_000 });
  assert.match(await page2.textContent('#status'), /weightsUrl must be on this page's origin http:\/\/127\.0\.0\.1:\d+, not http:\/\/localhost:\d+/);
  assert.ok(!log2.requests.some((u) => u.startsWith('http://localhost')), 'nothing was fetched from the other origin');
  await page2.close();
  await page.close();
});

test('a worker that dies mid-generation is reported, and Generate recovers without a reload', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await openApp(page, await appUrl(server, 'nosw'));
  const settings = { prompt: 'a red ball moving left', seed: 11, steps: 3 };
  await generate(page, settings);
  const before = await clipFrames(page);

  await fillSettings(page, { ...settings, steps: 200 });
  await page.click('#generate');
  await page.waitForFunction(() => /Step [1-9]\d* of 200/.test(document.getElementById('progress-text').textContent));
  const worker = page.workers().find((w) => /\/worker\.js$/.test(w.url()));
  assert.ok(worker, 'the engine worker is running');
  await worker.evaluate(() => { setTimeout(() => { throw new Error('simulated worker crash'); }); });
  assert.equal(await waitIdle(page, 30_000), 'error');
  assert.match(await page.textContent('#status'), /The engine stopped \(.*simulated worker crash.*\)\. Press Generate to try again/);
  assert.equal(await page.isEnabled('#generate'), true, 'Generate is offered again');

  await generate(page, settings);   // a fresh worker, same page
  const after = await clipFrames(page);
  assert.deepEqual(after.hashes, before.hashes, 'the new engine makes the same frames');
  assert.deepEqual(log.errors.filter((e) => !/simulated worker crash/.test(e)), []);
  await page.close();
});

// The page, its worker and the worker's WebAssembly memory, as Chromium attributes them.
async function pageMemory(page) {
  return page.evaluate(async () => (await performance.measureUserAgentSpecificMemory()).bytes);
}

test('50 generations in one page: memory stays within 8 MB of where it settles', async (t) => {
  const page = await browser.context.newPage();
  await openApp(page, await appUrl(server, 'nosw'));
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'memory measurement needs isolation');
  const prompts = ['a red ball moving left', 'a blue square rising', 'zorbly green ring'];
  let settled = 0;
  for (let i = 0; i < 50; i++) {
    await generate(page, { prompt: prompts[i % 3], seed: i, steps: 1 + (i % 2) });
    if (i === 29) settled = await pageMemory(page);   // the history (24 clips) is full by now
  }
  const end = await pageMemory(page);
  const BOUND = 8 << 20;
  t.diagnostic(`page + workers + WebAssembly memory: ${settled} bytes after 30 generations, ${end} after 50`);
  assert.ok(end - settled < BOUND, `memory grew by ${end - settled} bytes from generation 30 to 50 (bound ${BOUND})`);
  assert.equal(await page.locator('#history-list li').count(), 24, 'the history keeps its cap');
  await page.close();
});
