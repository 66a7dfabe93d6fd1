// chromium_bench.mjs — the WebAssembly benchmarks in headless Chromium, one JSON line per run.
//   node bench/chromium_bench.mjs DIR WEIGHTS REPS RUN...   RUN: wasm:THREADS (Kineto and onnxruntime-web), app,
//   long:THREADS (Kineto's clips of 16 and 64 frames; BENCH_LONG_STEPS steps, default the model's)
// Serves the repository read-only on localhost with COOP/COEP (threads need cross-origin isolation)
// and runs each job in a fresh page's module Worker (bench/page/). 'app' opens Kineto's own page
// (web/app/index.html with ?weights=WEIGHTS&threads=2), presses Generate with the default settings and
// times the first preview, the last step and the finished clip (what follows the last step is the
// decode); it also sums the gzip sizes of everything the page fetched.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import zlib from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const [dir, weights, repsArg, ...runs] = process.argv.slice(2);
const APP_THREADS = 2;   // the page's target is set at 2 threads, whatever the machine's cores
const LONG_JOB = { prompt: 'a red ball moving left on black', seed: 7, steps: Number(process.env.BENCH_LONG_STEPS ?? 0) };
const SERVED = ['web/', 'bench/', 'node_modules/onnxruntime-web/dist/', path.relative(ROOT, path.resolve(dir)) + '/',
  path.relative(ROOT, path.dirname(path.resolve(weights))) + '/'];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json' };
const FLAGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

const fetched = new Set();   // files served, for the page's download size
const server = http.createServer((req, res) => {
  const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname).slice(1);
  const file = path.join(ROOT, rel);
  if (rel.includes('..') || !SERVED.some((p) => rel.startsWith(p)) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store' });
  fetched.add(rel);
  fs.createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kineto-bench-'));
const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
let status = 0;
try {
  for (const run of runs) {
    if (run === 'app') {
      try {
        console.log(JSON.stringify(await appRun(context, Number(repsArg))));
      } catch (error) {
        console.error(`chromium app: ${error.message}`);
        status = 1;
      }
      continue;
    }
    const [kind, threadsText] = run.split(':');
    const threads = Number(threadsText);
    const page = await context.newPage();
    await page.goto(`${origin}/bench/page/index.html`);
    await page.waitForFunction(() => window.runBench);
    const isolated = await page.evaluate(() => window.isolated);
    try {
      const job = { threads, reps: Number(repsArg),
        weights: `${origin}/${path.relative(ROOT, path.resolve(weights))}`, dir: `${origin}/${path.relative(ROOT, path.resolve(dir))}` };
      const results = kind === 'long' ? await page.evaluate((job) => window.runLong(job), { ...job, ...LONG_JOB })
        : await page.evaluate((job) => window.runBench(job), job);
      const extra = kind === 'long' ? { kind: 'long', engine: 'kineto' } : {};
      for (const r of results) console.log(JSON.stringify({ where: 'wasm-chromium', threads, isolated, ...extra, ...r }));
    } catch (error) {
      console.error(`chromium ${run}: ${error.message}`);
      status = 1;
    }
    await page.close();
  }
} finally {
  await context.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(status);

// Kineto's page end to end at 2 threads: click Generate (default steps, guidance and frames), time the
// first live preview, the last step's progress and the finished clip; one warm-up, then reps runs.
async function appRun(ctx, reps) {
  fetched.clear();
  const page = await ctx.newPage();
  const weightsUrl = '/' + path.relative(ROOT, path.resolve(weights));
  await page.goto(`${origin}/web/app/index.html?nosw&threads=${APP_THREADS}&weights=${encodeURIComponent(weightsUrl)}`);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 60_000 });
  if (await page.evaluate(() => document.body.dataset.state) === 'error') throw new Error(await page.textContent('#status'));
  const mode = await page.textContent('#mode');
  if (!mode.includes(`(${APP_THREADS})`)) throw new Error(`the page runs '${mode}', not ${APP_THREADS} threads`);
  await page.fill('#prompt', 'a red ball moving left on black');
  await page.fill('#seed', '7');
  const runs = [];
  for (let rep = -1; rep < reps; rep++) {
    const r = await page.evaluate(() => new Promise((resolve) => {
      const badge = document.getElementById('preview-badge');
      const bar = document.getElementById('progress-bar');
      const before = Number(document.body.dataset.runs ?? 0);
      let first = null, lastStep = null;
      const t0 = performance.now();
      new MutationObserver(() => { if (first === null && !badge.hidden) first = performance.now() - t0; })
        .observe(badge, { attributes: true, childList: true, characterData: true, subtree: true });
      // the progress text is rewritten with each step: the first time the bar is full, the steps are done
      new MutationObserver(() => { if (lastStep === null && bar.value === bar.max) lastStep = performance.now() - t0; })
        .observe(document.getElementById('progress-text'), { childList: true, characterData: true, subtree: true });
      new MutationObserver((_, obs) => {
        if (Number(document.body.dataset.runs ?? 0) <= before) return;
        obs.disconnect();
        const clip = performance.now() - t0;
        resolve({ first, clip, decode: clip - (lastStep ?? clip), state: document.body.dataset.state,
          steps: document.getElementById('steps').value });
      }).observe(document.body, { attributes: true });
      document.getElementById('generate').click();
    }));
    if (r.state !== 'done') throw new Error(`generation ended '${r.state}'`);
    if (rep >= 0) runs.push(r);
  }
  const { width, height } = await page.evaluate(() => {   // the clip's size: the player's canvas
    const { width, height } = document.getElementById('screen');
    return { width, height };
  });
  await page.close();
  const med = (k) => Math.round(1000 * median(runs.map((r) => r[k]))) / 1000;
  const files = [...fetched].filter((f) => f.startsWith('web/') || f === weightsUrl.slice(1)).sort().map((f) => {
    const bytes = fs.readFileSync(path.join(ROOT, f));
    return { path: f, bytes: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
  });
  const sum = (k) => files.reduce((a, f) => a + f[k], 0);
  return { engine: 'kineto', where: 'app-chromium', mode, steps: Number(runs[0].steps), width, height,
    first_preview_ms: med('first'), clip_ms: med('clip'), decode_ms: med('decode'),
    download: { bytes: sum('bytes'), gzip: sum('gzip'), files } };
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
