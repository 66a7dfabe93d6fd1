// node web/single/build.mjs OUT.html: the whole page (web/app/) as one HTML file that works from
// disk (file://) with no server and no network. esbuild bundles the page with the default weights and
// the engine's worker (its SIMD and plain WebAssembly inline; see worker.js and model.js here); the
// page's stylesheet and icon go inline too, and a Content-Security-Policy lets the page reach nothing.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const MAX_BYTES = 12 * 1024 * 1024;   // the size we promise for the file
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const out = process.argv[2];
if (!out) throw new Error('usage: node web/single/build.mjs OUT.html');

const common = {
  bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022', minify: true,
  loader: { '.wasm': 'binary', '.kin': 'binary' },
  // The Emscripten glue names Node's modules on a branch that never runs in a browser.
  external: ['fs', 'path', 'url', 'module', 'crypto', 'worker_threads'],
  logLevel: 'warning',
};

const worker = await esbuild.build({ ...common, entryPoints: [here('./worker.js')] });

// web/app/model.js becomes ./model.js; 'kineto-single:worker' is the worker bundle as a data: URL.
const inline = {
  name: 'kineto-single',
  setup(build) {
    build.onResolve({ filter: /^\.\/model\.js$/ }, (args) =>
      (args.importer === here('../app/app.js') ? { path: here('./model.js') } : undefined));
    build.onResolve({ filter: /^kineto-single:worker$/ }, () => ({ path: 'worker', namespace: 'kineto-single' }));
    build.onLoad({ filter: /.*/, namespace: 'kineto-single' }, () => ({
      contents: `data:text/javascript;base64,${Buffer.from(worker.outputFiles[0].contents).toString('base64')}`,
      loader: 'text',
    }));
  },
};
const page = await esbuild.build({ ...common, entryPoints: [here('../app/app.js')], plugins: [inline] });

// "</script" would end the inline script early; "<\/script" means the same inside JS strings.
const script = page.outputFiles[0].text.replaceAll('</script', '<\\/script');
const style = readFileSync(here('../app/style.css'), 'utf8');
const icon = `data:image/svg+xml;base64,${readFileSync(here('../app/icon.svg')).toString('base64')}`;
const sha256 = (text) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const policy = [
  "default-src 'none'",
  `script-src ${sha256(script)} 'wasm-unsafe-eval'`,
  'worker-src data:',
  `style-src ${sha256(style)}`,
  'img-src data: blob:',
  'media-src blob:',
].join('; ');

let html = readFileSync(here('../app/index.html'), 'utf8');
const replace = (pattern, text) => {
  if (!pattern.test(html)) throw new Error(`web/app/index.html has no ${pattern}: update web/single/build.mjs`);
  html = html.replace(pattern, () => text);
};
replace(/<meta http-equiv="Content-Security-Policy" content="[^"]*">/,
  `<meta http-equiv="Content-Security-Policy" content="${policy}">`);
replace(/<link rel="icon" href="icon.svg"[^>]*>/, `<link rel="icon" href="${icon}" type="image/svg+xml">`);
replace(/<link rel="stylesheet" href="style.css">/, `<style>${style}</style>`);
replace(/<script type="module" src="app.js"><\/script>/, `<script type="module">${script}</script>`);

const bytes = Buffer.byteLength(html);
if (bytes > MAX_BYTES) throw new Error(`${out} would be ${bytes} bytes, over the ${MAX_BYTES} promised`);
writeFileSync(`${out}.tmp`, html);
renameSync(`${out}.tmp`, out);
console.log(`    ${out}: ${(bytes / 1024 / 1024).toFixed(1)} MB`);
