// The share link carries prompt, seed and settings; opening it reproduces the very same frames.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openApp, appStarted, generate, waitIdle, clipFrames, TEST_STEPS, appUrl } from './helpers.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

test('a shared link reproduces identical frames; another seed does not', async () => {
  const settings = { prompt: 'a green star spinning in the sky', negativePrompt: 'red', seed: 424242,
    steps: TEST_STEPS, guidance: 2.5, renoise: 0.5 };
  const first = await browser.context.newPage();
  await openApp(first, await appUrl(server, 'nosw'));
  await generate(first, settings);
  const original = await clipFrames(first);
  const link = await first.inputValue('#share-url');
  assert.match(link, /seed=424242/);
  assert.match(link, /n=red/);
  assert.match(link, /r=0\.5/);

  // Opened as a link to web/ itself (as links were before the page moved to app/), it goes on to the
  // page with its query and hash, and starts the generation by itself.
  const second = await browser.context.newPage();
  assert.match(link, /\/app\/\?nosw#/);
  await second.goto(link.replace('/app/', '/'));
  await second.waitForURL(link);
  await second.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null,
    { timeout: 300_000 });
  assert.equal(await second.evaluate(() => document.body.dataset.state), 'done', await second.textContent('#status'));
  assert.equal(await second.inputValue('#prompt'), settings.prompt);
  assert.equal(await second.inputValue('#seed'), '424242');
  assert.equal(await second.isChecked('#seed-lock'), true, 'a linked seed is locked');
  const reproduced = await clipFrames(second);
  assert.deepEqual(reproduced, original, 'the very same frames');

  // The comparison can fail: another seed gives other frames.
  await generate(second, { ...settings, seed: 424243 });
  const other = await clipFrames(second);
  assert.notDeepEqual(other.hashes, original.hashes);

  // Clicking the first clip in the history brings back its frames and settings.
  await second.locator('#history-list li').last().locator('button').click();
  assert.equal(await second.inputValue('#seed'), '424242');
  assert.deepEqual(await clipFrames(second), original);
  assert.equal(await waitIdle(second), 'done');
});

// Links whose text the engine cannot take as shown: the page names the field and starts nothing.
test('a link with a NUL in the prompt or too many known words in the negative prompt shows the field error', async () => {
  const page = await browser.context.newPage();
  for (const [hash, field, pattern] of [
    ['#p=red%00%20ball&seed=1', 'prompt', /^prompt contains a NUL character \(U\+0000, at position 3\)/],
    [`#p=red&seed=1&n=${'blue+'.repeat(30)}`, 'negative', /^negativePrompt is too long: 30 known words, at most \d+/],
  ]) {
    await page.goto(appUrl(server, 'nosw') + hash);
    await appStarted(page);
    await page.waitForFunction(() => document.getElementById('status').dataset.kind === 'error', null, { timeout: 30_000 });
    assert.match(await page.textContent('#status'), pattern, hash);
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready', `${hash}: the page is not broken`);
    assert.equal(await page.evaluate(() => document.activeElement.id), field, `${hash}: the field to fix has focus`);
    assert.equal(await page.evaluate(() => document.body.dataset.runs), undefined, `${hash}: no generation started`);
    assert.equal(await page.isEnabled('#generate'), true);
  }
  await page.close();
});
