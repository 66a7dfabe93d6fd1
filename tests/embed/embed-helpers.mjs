// Pages and fixtures for the embedding tests: they are written into web/wasm/ (build output, not
// tracked) so the test server serves them from the same origin as the engine.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { ROOT } from '../browser/helpers.mjs';

export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";
const WASM = path.join(ROOT, 'web/wasm');

export function sha256(bytes) {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

// Writes the test fixtures under web/wasm/embed-test/ and returns their paths relative to web/.
export function writeFixtures() {
  const dir = path.join(WASM, 'embed-test');
  fs.mkdirSync(dir, { recursive: true });
  const tiny = fs.readFileSync(path.join(ROOT, 'tests/fixtures/tiny.kin'));
  fs.writeFileSync(path.join(dir, 'tiny.kin'), tiny);
  const damaged = Buffer.from(tiny);
  damaged[damaged.length >> 1] ^= 0x10;
  fs.writeFileSync(path.join(dir, 'damaged.kin'), damaged);
  // An empty page under the strict policy; tests import /kineto.js into it.
  fs.writeFileSync(path.join(dir, 'blank.html'),
    `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}"><title>blank</title>`);
  // The real worker, except that a prompt containing "crash" kills it and one containing "trap"
  // makes the engine trap at its second step, as an out-of-bounds access in WebAssembly would.
  fs.writeFileSync(path.join(dir, 'crash-worker.js'), `import { Engine } from '../../kineto-engine.js';
import '../../worker.js';
const realStep = Engine.prototype.step;
let prompt = '';
Engine.prototype.step = function () {
  if (prompt.includes('trap') && this.stepsDone() === 1) throw new WebAssembly.RuntimeError('memory access out of bounds');
  return realStep.call(this);
};
const real = self.onmessage;
self.onmessage = (event) => {
  if (event.data.type === 'generate') prompt = event.data.prompt;
  if (event.data.type === 'generate' && event.data.prompt.includes('crash')) setTimeout(() => { throw new Error('simulated crash'); });
  else real(event);
};
`);
  // Two clips on a page that first points Kineto at the tiny model.
  fs.writeFileSync(path.join(dir, 'clips.html'), `<!doctype html><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}"><title>clips</title>
<script type="module" src="clips.js"></script>
<kineto-clip id="one" prompt="a red ball moving left" seed="7" steps="2" autoplay loop controls></kineto-clip>
<kineto-clip id="two" prompt="a blue square" seed="8" steps="2" controls></kineto-clip>
<kineto-clip id="bad" prompt="a red ball" steps="500"></kineto-clip>
`);
  fs.writeFileSync(path.join(dir, 'clips.js'), `import { init } from '../../kineto.js';
import '../../kineto-clip.js';
init({ weightsUrl: new URL('tiny.kin', import.meta.url) }).catch(() => {});   // the clips show any failure
`);
  fs.writeFileSync(path.join(dir, 'frame.html'), `<!doctype html><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}"><title>frame</title>
<iframe id="frame" src="clips.html" width="600" height="400"></iframe>
`);
  return { base: 'wasm/embed-test/', tiny: 'wasm/embed-test/tiny.kin' };
}

// In the page: import kineto.js and hash a clip's frames (SHA-256 hex), so tests compare bits.
export const PAGE_HELPERS = `
  window.hashFrames = async (frames) => Promise.all(frames.map(async (f) =>
    [...new Uint8Array(await crypto.subtle.digest('SHA-256', f))].map((b) => b.toString(16).padStart(2, '0')).join('')));
`;

// Serves web/ with the strict policy as an HTTP header, so it binds the workers too (a <meta> policy
// covers only the document), plus cross-origin isolation for the threaded build.
let nextPort = 18000 + (process.pid % 1000) * 4;
export async function startCspServer(config = 'serve-csp.json') {
  const port = nextPort++;
  const child = spawn(path.join(ROOT, 'node_modules/.bin/serve'), ['--listen', `tcp://127.0.0.1:${port}`, '--no-clipboard',
    '--no-port-switching', '--no-request-logging', '--config', path.join(ROOT, 'tests/embed', config),
    path.join(ROOT, 'web')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).status < 500) return { url, close: () => child.kill() };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`the server did not start on ${url}`);
}
