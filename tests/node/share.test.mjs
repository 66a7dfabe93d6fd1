// Share links (web/app/share.js): settings survive the URL hash, and links made before renoise
// existed keep the Euler steps they were made with.
import test from 'node:test';
import assert from 'node:assert/strict';
import { settingsToHash, hashToSettings } from '../../web/app/share.js';

// a seed comes back as the text of the link: up to 2^64-1, exactly
const settings = { prompt: 'a red ball & a "star"', negativePrompt: 'blue', seed: '18446744073709551615', steps: 16,
  guidance: 1.5, renoise: 0.5, frames: 12, fps: 8, seamless: false };

test('settings survive a round trip through the hash', () => {
  assert.deepEqual(hashToSettings(settingsToHash(settings)), settings);
  assert.deepEqual(hashToSettings(settingsToHash({ ...settings, renoise: 0 })).renoise, 0);
});

test('a storyboard and a seamless loop survive the hash, shots in order', () => {
  const shots = [{ prompt: 'a red ball: moving left', frames: 20 }, { prompt: 'a blue & square', frames: 1 },
    { prompt: 'star=1', frames: 43 }];
  const board = { ...settings, prompt: shots[0].prompt, frames: 64, shots, seamless: true };
  const hash = settingsToHash(board);
  assert.deepEqual(hashToSettings(hash), board);
  assert.match(hash, /&loop=1/);
  // a shot without its length comes back as NaN frames, for the page's checks to name
  assert.ok(Number.isNaN(hashToSettings('#p=ball&shot=ball&shot=3:red').shots[0].frames));
});

test('a link from before renoise existed gets Euler steps (renoise 0)', () => {
  assert.equal(hashToSettings('#p=a+red+ball&seed=7&steps=16&g=2').renoise, 0);
  assert.equal(hashToSettings('#p=a+red+ball').renoise, undefined, 'no seed: a fresh clip with the defaults');
});

test('a hash without a prompt is no link', () => {
  assert.equal(hashToSettings('#seed=7&r=1'), null);
  assert.equal(hashToSettings(''), null);
});
