// <kineto-clip> and kineto.js in a hostile embedding page: attribute values never become markup, the
// element's one attribute that names a URL (image) and weights from another origin are refused unfetched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launch, watch, assertSameOrigin, writeFixtures, CSP } from './helpers.mjs';

const fixtures = writeFixtures();
let server, browser;
before(async () => { [server, browser] = await Promise.all([startServer(), launch()]); });
after(async () => { await browser?.close(); server?.close(); });

const HOSTILE = '<img src=x onerror="window.pwned=1"><svg onload="window.pwned=2">';

function writePage(otherOrigin) {
  const { dir } = fixtures;
  const attr = (s) => s.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
  fs.writeFileSync(path.join(dir, 'hostile.html'), `<!doctype html><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}"><title>hostile</title>
<script type="module" src="hostile.js"></script>
<kineto-clip id="bad" prompt="${attr(HOSTILE + ' zebra')}" seed="${attr('<b>7</b>')}" steps="1"></kineto-clip>
<kineto-clip id="good" prompt="${attr(HOSTILE + ' a red ball')}" seed="3" steps="1" negative-prompt="${attr(HOSTILE)}"
  src="${otherOrigin}x.kin" weights="${otherOrigin}x.kin" model="${otherOrigin}x.kin" href="file:///etc/passwd"></kineto-clip>
`);
  fs.writeFileSync(path.join(dir, 'hostile.js'), `import { init } from '../../kineto.js';
await init({ weightsUrl: new URL('tiny.kin', import.meta.url) });
await import('../../kineto-clip.js');
`);
  return fixtures.base + 'hostile.html';
}

test('hostile attribute values stay text; no URL attribute but image; other origins are never reached', async () => {
  const other = server.url.replace('127.0.0.1', 'localhost');
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await page.goto(server.url + writePage(other));
  const status = (id) => page.evaluate((id) => document.getElementById(id).shadowRoot.querySelector('.status').textContent, id);
  await page.waitForFunction(() => document.getElementById('bad').shadowRoot?.querySelector('.status.error'), null, { timeout: 60_000 });
  assert.match(await status('bad'), /^prompt has no word the model knows \(unknown: img, src, x, onerror, window, pwned, 1, svg, onload, window, pwned, 2, zebra\)$/);
  await page.waitForFunction(() => document.getElementById('good').frames?.length > 0 && !document.getElementById('good').controller,
    null, { timeout: 60_000 });
  assert.match(await status('good'), /ignored unknown words: img, src/);

  // the same with an attribute changed later, and a hostile number
  await page.evaluate((hostile) => {
    const el = document.getElementById('bad');
    el.setAttribute('prompt', hostile + ' a blue square');
    el.setAttribute('seed', '<b>7</b>');
  }, HOSTILE);
  await page.waitForFunction(() => /seed/.test(document.getElementById('bad').shadowRoot?.querySelector('.status').textContent));
  // the attribute is read as the CLI reads --seed: decimal digits only
  assert.match(await status('bad'), /^seed must be a whole number from 0 to 18446744073709551615, written in decimal digits \(got "<b>7<\/b>"\)$/);

  const dom = await page.evaluate(() => ['bad', 'good'].map((id) => {
    const root = document.getElementById(id).shadowRoot;
    return { elements: [...root.querySelectorAll('*')].map((e) => e.localName).sort().join(','),
      label: root.querySelector('canvas').getAttribute('aria-label') };
  }));
  for (const { elements, label } of dom) {
    assert.equal(elements, 'button,canvas,div,figure,span', 'only the element\'s own parts in its shadow root');
    assert.match(label, /^<img src=x onerror="window.pwned=1"><svg/, 'the prompt is the canvas label, as text');
  }
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.deepEqual(dialogs, []);
  const observed = await page.evaluate(() => customElements.get('kineto-clip').observedAttributes);
  assert.deepEqual(observed.filter((a) => /src|url|weight|model|href|worker|image/i.test(a)), ['image'],
    'no attribute names a URL but image, refused on another origin (tests/embed/image.test.mjs)');
  assertSameOrigin(log, server.url);

  // kineto.js refuses weights on another origin before any request; its own origin still works.
  const refused = await page.evaluate(async (url) => {
    const kineto = await import('/lib/kineto.js');
    return kineto.init({ weightsUrl: url }).then(() => 'loaded', (e) => `${e.name}: ${e.message} [${e.field}]`);
  }, other + fixtures.tiny);
  assert.match(refused, /^TypeError: weightsUrl must be on this page's origin http:\/\/127\.0\.0\.1:\d+, not http:\/\/localhost:\d+ \[weightsUrl\]$/);
  const dataUrl = await page.evaluate(async () => (await import('/lib/kineto.js')).init({ weightsUrl: 'data:application/octet-stream,KNTO' })
    .then(() => 'loaded', (e) => e.message));
  assert.match(dataUrl, /weightsUrl must be on this page's origin/);
  assert.ok(!log.requests.some((u) => u.startsWith(other) || u.startsWith('data:')), 'no request to the other origin');
  await page.close();
});
