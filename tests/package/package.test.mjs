// The npm package as an embedder gets it (./build.sh package -> build/kineto-<version>.tgz), installed
// from the tarball into an empty project: its contents, two <kineto-clip>s on a static site that
// serves it under a sub-path (Python's http.server, without and with COOP/COEP; web/lib/ copied
// there too), an app bundled by esbuild, and an example type-checked by tsc against its
// declarations. Debian's chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { launch, watch, ROOT } from '../browser/helpers.mjs';
import { Engine } from '../../web/lib/kineto-engine.js';
import { loadModule, runGeneration, sha256, stopThreads } from '../node/load-engine.mjs';

const VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
const TARBALL = path.join(ROOT, `build/kineto-${VERSION}.tgz`);
const FIXTURES = path.join(ROOT, 'tests/package/fixtures');
const WEIGHTS = path.join(ROOT, 'weights/kineto-world.kin');

let project, installed, browser;
const servers = [];

before(async () => {
  assert.ok(fs.existsSync(TARBALL), `${path.relative(ROOT, TARBALL)} is missing: run ./build.sh package`);
  project = fs.mkdtempSync(path.join(tmpdir(), 'kineto-package-'));
  fs.writeFileSync(path.join(project, 'package.json'), '{ "name": "embedder", "private": true, "type": "module" }\n');
  // The package has no dependencies, so the tarball installs with no registry at all.
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', TARBALL],
    { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] });
  installed = path.join(project, 'node_modules/kineto');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  for (const server of servers) server.kill();
  stopThreads();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

// Serves dir with tests/package/static_server.py; resolves to its http://127.0.0.1:PORT/ URL.
function serve(dir, { isolated = false } = {}) {
  const args = [path.join(ROOT, 'tests/package/static_server.py'), dir, ...(isolated ? ['--isolated'] : [])];
  const child = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (data) => resolve(`http://127.0.0.1:${String(data).trim()}/`));
    child.once('exit', (code) => reject(new Error(`the static server exited (${code})`)));
  });
}

// Every response of a page that failed (a file the package looked for in the wrong place).
function failedResponses(page) {
  const failed = [];
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  page.on('requestfailed', (r) => failed.push(`failed ${r.url()}`));
  return failed;
}

// The frames' hashes the WebAssembly engine gives in Node for this request and the default model.
async function expectedHashes(request) {
  const engine = new Engine(await loadModule('simd'), fs.readFileSync(WEIGHTS));
  return runGeneration(engine, request).frames.map(sha256);
}

test('the tarball holds the library, its builds, weights, types and README, and no dependencies', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
  assert.equal(manifest.name, 'kineto');
  assert.equal(manifest.version, VERSION);
  assert.equal(manifest.dependencies, undefined);
  assert.equal(manifest.types, './kineto.d.ts');
  assert.deepEqual(manifest.exports['.'], { types: './kineto.d.ts', default: './kineto.js' });
  assert.deepEqual(manifest.exports['./clip'], { types: './kineto-clip.d.ts', default: './kineto-clip.js' });
  for (const file of ['kineto.js', 'kineto-clip.js', 'worker.js', 'kineto-engine.js', 'kineto-request.js', 'player.js',
    'version.js', 'kineto.d.ts', 'kineto-clip.d.ts', 'README.md', 'wasm/kineto-world.kin', 'wasm/kineto-simd-mt.worker.js',
    ...['kineto-simd-mt', 'kineto-simd', 'kineto-base'].flatMap((b) => [`wasm/${b}.js`, `wasm/${b}.wasm`])]) {
    assert.ok(fs.existsSync(path.join(installed, file)), `${file} is in the package`);
  }
  assert.ok(fs.readFileSync(path.join(installed, 'wasm/kineto-world.kin')).equals(fs.readFileSync(WEIGHTS)));
  assert.match(fs.readFileSync(path.join(installed, 'version.js'), 'utf8'), new RegExp(`'${VERSION.replaceAll('.', '\\.')}'`));
});

// A site whose article (/blog/index.html) loads the library from /vendor/kineto/: the installed
// package, or web/lib/ copied as it is (the first way to embed; test fixtures left out).
function writeSite(source) {
  const site = fs.mkdtempSync(path.join(project, 'site-'));
  const from = source === 'package' ? installed : path.join(ROOT, 'web/lib');
  fs.cpSync(from, path.join(site, 'vendor/kineto'), { recursive: true,
    filter: (file) => !/embed-test|test-tiny|\.recipe$/.test(file) });
  fs.mkdirSync(path.join(site, 'blog'));
  fs.copyFileSync(path.join(FIXTURES, 'clips.html'), path.join(site, 'blog/index.html'));
  return site;
}

for (const [source, isolated] of [['package', false], ['package', true], ['web/lib', false]]) {
  test(`two clips from ${source} under a sub-path of a static site ${isolated ? 'with' : 'without'} COOP/COEP`, async () => {
    const url = await serve(writeSite(source), { isolated });
    const page = await browser.context.newPage();
    const log = watch(browser.context, page);
    const failed = failedResponses(page);
    await page.goto(url + 'blog/');
    const clips = await page.evaluate(() => Promise.all(['one', 'two'].map((id) => new Promise((resolve, reject) => {
      const element = document.getElementById(id);
      element.addEventListener('kineto-ready', (e) => resolve({ count: e.detail.frames.length, seed: e.detail.seed }));
      element.addEventListener('kineto-error', (e) => reject(new Error(`${id}: ${e.detail.message}`)));
    }))));
    assert.deepEqual(clips.map((c) => c.seed), [7, 8]);
    const frames = await page.evaluate(async () => {
      const hash = async (bytes) => window.sha256Hex(bytes);
      return Promise.all(['one', 'two'].map((id) => Promise.all(document.getElementById(id).frames.map(hash))));
    });
    assert.deepEqual(frames[0], await expectedHashes({ prompt: 'a red ball moving left on black', seed: 7, steps: 2 }));
    assert.deepEqual(frames[1], await expectedHashes({ prompt: 'a blue star bouncing on grass', seed: 8, steps: 2 }));
    // Threads follow the host: one without cross-origin isolation, several with it; init() says which.
    const mode = await page.evaluate(async () => (await (await import('/vendor/kineto/kineto.js')).init()).mode);
    if (isolated) assert.match(mode, /^simd\+threads \([2-4]\)$/);
    else assert.equal(mode, 'simd');
    assert.deepEqual(failed, [], 'every file the package asked for was where it looked');
    const outside = log.requests.filter((u) => !u.startsWith(url + 'vendor/kineto/') && !u.startsWith(url + 'blog/'));
    assert.deepEqual(outside, [], 'the package fetches only its own files');
    assert.deepEqual(log.errors, []);
    await page.close();
  });
}

test('an app that imports kineto, bundled by esbuild, runs from a sub-path', async () => {
  const site = fs.mkdtempSync(path.join(project, 'bundled-'));
  const dist = path.join(site, 'apps/demo');
  fs.copyFileSync(path.join(FIXTURES, 'bundle-app.js'), path.join(project, 'app.js'));
  await esbuild.build({ absWorkingDir: project, entryPoints: ['app.js'], bundle: true, format: 'esm',
    outfile: path.join(dist, 'app.js'), logLevel: 'warning' });
  const bundle = fs.readFileSync(path.join(dist, 'app.js'), 'utf8');
  assert.match(bundle, /customElements\.define\("kineto-clip"/, 'the element is in the bundle');
  // As the package's README says: the engine's worker and WebAssembly stay files beside the bundle.
  for (const file of ['worker.js', 'kineto-engine.js', 'kineto-request.js', 'wasm']) {
    fs.cpSync(path.join(installed, file), path.join(dist, file), { recursive: true });
  }
  fs.copyFileSync(path.join(FIXTURES, 'bundle.html'), path.join(dist, 'index.html'));
  const url = await serve(site);
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  const failed = failedResponses(page);
  await page.goto(url + 'apps/demo/');
  const result = await page.evaluate(() => window.result);
  assert.equal(result.version, VERSION);
  assert.equal(result.mode, 'simd');
  assert.equal(result.element, true);
  assert.deepEqual([result.width, result.height], [64, 64]);
  assert.deepEqual(result.hashes, await expectedHashes(result.request));
  assert.deepEqual(failed, []);
  assert.deepEqual(log.requests.filter((u) => !u.startsWith(url + 'apps/demo/')), []);
  assert.deepEqual(log.errors, []);
  await page.close();
});

test('tsc type-checks an example against the declarations, and rejects misuse', () => {
  for (const file of ['typed.ts', 'tsconfig.json']) fs.copyFileSync(path.join(FIXTURES, file), path.join(project, file));
  const tsc = path.join(ROOT, 'node_modules/.bin/tsc');
  execFileSync(tsc, ['-p', project], { stdio: ['ignore', 'inherit', 'inherit'] });
  // The same example with its expected errors removed must fail: the declarations are what is checked.
  const source = fs.readFileSync(path.join(project, 'typed.ts'), 'utf8');
  fs.writeFileSync(path.join(project, 'typed.ts'), source.replaceAll('// @ts-expect-error', '//'));
  let output = '';
  try {
    execFileSync(tsc, ['-p', project], { encoding: 'utf8' });
  } catch (error) {
    output = error.stdout;
  }
  assert.equal((output.match(/error TS/g) ?? []).length, 5, `tsc's errors:\n${output}`);
});
