// The page's word chips (web/app/vocab.js): one chip per meaning, built only from words the
// model knows, and no known word left out.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { groupVocabulary } from '../../web/app/vocab.js';
import { loadTiny, stopThreads } from './load-engine.mjs';

after(stopThreads);

const group = (groups, title) => groups.find(([t]) => t === title)?.[1] ?? [];
const texts = (chips) => chips.map((c) => c.text);

test("the world's vocabulary: every meaning offered once, every word reachable", async () => {
  const engine = await loadTiny('simd');
  const groups = groupVocabulary(engine.vocab); // as the worker sends it: no '<null>'
  engine.free();
  assert.deepEqual(groups.map(([t]) => t), ['Colours', 'Shapes', 'Motion', 'Places', 'Linking words']);
  assert.equal(group(groups, 'Colours').length, 9);
  assert.deepEqual(texts(group(groups, 'Shapes')), ['ball', 'square', 'triangle', 'star', 'ring']);
  assert.equal(group(groups, 'Motion').length, 9);
  assert.deepEqual(texts(group(groups, 'Linking words')), ['and', 'with', 'a', 'an', 'the']);
  assert.ok(texts(group(groups, 'Motion')).includes('moving left'));
  assert.deepEqual(group(groups, 'Places').find((c) => c.text === 'at night').also, ['in the night sky']);
  const known = new Set(engine.vocab);
  const reachable = new Set();
  for (const [, chips] of groups)
    for (const { text, also } of chips)
      for (const phrase of [text, ...also])
        for (const word of phrase.split(' ')) {
          assert.ok(known.has(word), `"${phrase}" uses "${word}", which the model does not know`);
          reachable.add(word);
        }
  assert.deepEqual([...known].filter((w) => !reachable.has(w)), []);
});

test('a vocabulary missing words: phrases fall back to known synonyms, strangers go to Other', () => {
  const vocab = ['red', '<null>', 'sliding', 'going', 'left', 'ball', 'zebra', 'at'];
  const groups = groupVocabulary(vocab);
  assert.deepEqual(group(groups, 'Motion'), [{ text: 'sliding left', also: ['going left'] }]);
  assert.deepEqual(texts(group(groups, 'Places')), [], '"at night" needs "night"');
  assert.deepEqual(texts(group(groups, 'Other')), ['zebra', 'at']);
  assert.deepEqual(texts(group(groups, 'Colours')), ['red']);
});
