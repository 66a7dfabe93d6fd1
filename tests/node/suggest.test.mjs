// suggestWord (web/lib/kineto-request.js): what the page offers for a word the model does not know.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { suggestWord } from '../../web/lib/kineto-request.js';
import { loadTiny, stopThreads } from './load-engine.mjs';

after(stopThreads);

test('typos, plurals and verb forms map to the known word; strangers to nothing', async () => {
  const engine = await loadTiny('simd');
  const vocab = engine.vocab;
  engine.free();
  const cases = {
    blu: 'blue', yelow: 'yellow', purpel: 'purple', tringle: 'triangle', spining: 'spinning', bal: 'ball',
    squares: 'square', circles: 'circle', stars: 'star',
    bounce: 'bouncing', bounces: 'bouncing', spins: 'spinning', moves: 'moving', falls: 'falling', hops: 'hopping',
    zebra: null, dog: null, cat: null, xq: null, leftwards: null,
  };
  for (const [word, expected] of Object.entries(cases)) assert.equal(suggestWord(word, vocab), expected, word);
});

test('every known word with a letter dropped gets a known word (never "<null>") as its suggestion', async () => {
  const engine = await loadTiny('simd');
  const vocab = engine.vocab;
  engine.free();
  const known = new Set(vocab);
  let suggested = 0;
  for (const word of vocab.filter((w) => w.length >= 4)) {
    for (let i = 0; i < word.length; i++) {
      const typo = word.slice(0, i) + word.slice(i + 1);          // one letter dropped
      if (known.has(typo)) continue;
      const near = suggestWord(typo, [...vocab, '<null>']);
      if (typo.length < 3) { assert.equal(near, null, typo); continue; }
      assert.ok(near && known.has(near) && near !== '<null>', `${typo} -> ${near}`);
      suggested++;
    }
  }
  assert.ok(suggested > 100, `only ${suggested} typos tried`);
});
