// A model file from the device replaces the built-in model (the clip is the native CLI's for that
// file); a file that is not a model is refused with the engine's reason, and the built-in model keeps
// working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launch, openApp, generate, clipFrames, appUrl, formSettings, nativeHashes, ROOT } from './helpers.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

const waitReady = (page) => page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state));

test('load a model file from the device, refuse one that is not a model', async () => {
  const page = await browser.context.newPage();
  await openApp(page, await appUrl(server, 'nosw'));
  const tiny = path.join(ROOT, 'tests/fixtures/tiny.kin');
  await page.setInputFiles('#model-file', tiny);
  await waitReady(page);
  assert.match(await page.textContent('#status'), /Using the model file tiny\.kin/);
  await generate(page, { prompt: 'a red ball', seed: 1, steps: 2 });
  const fromFile = await clipFrames(page);
  const settings = await formSettings(page);
  assert.deepEqual(fromFile.hashes, nativeHashes(settings, tiny), `the native CLI's frames of tiny.kin for ${JSON.stringify(settings)}`);

  await page.setInputFiles('#model-file', { name: 'notes.kin', mimeType: 'application/octet-stream',
    buffer: Buffer.from('these are not weights') });
  await waitReady(page);
  const status = await page.textContent('#status');
  assert.match(status, /notes\.kin cannot be used: .+\. Kineto keeps its built-in model\./);
  assert.equal(await page.getAttribute('#status', 'data-kind'), 'error');
  await generate(page, { prompt: 'a red ball', seed: 1, steps: 2 });
  await page.close();
});
