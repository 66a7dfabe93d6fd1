// web/lib/kineto-request.js flags unknown words as the user types; it must split prompts exactly as
// the engine's tokenizer does, or the page would flag the wrong words.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { splitWords, unknownWords } from '../../web/lib/kineto-request.js';
import { loadTiny, stopThreads } from './load-engine.mjs';

after(stopThreads);

// A small deterministic generator (xorshift32), so a failure can be replayed.
function randomText(state, vocab) {
  const pieces = [...vocab.slice(0, 12), 'Ball', 'RED', "it's", 'x9', 'zebra', ' ', ' ', ',', '-', '!', '\n',
    'é', 'ß', '\u212A', '\u0130', '日本', '😀', "'", '0', 'A'];
  let s = state;
  const next = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) % pieces.length; };
  let text = '';
  for (let i = 0; i < 14; i++) text += pieces[next()];
  return text;
}

test('unknownWords agrees with the engine on random prompts', async () => {
  const engine = await loadTiny('simd');
  const known = new Set(engine.vocab);
  let compared = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const prompt = randomText(seed * 2654435761 >>> 0 || 1, engine.vocab);
    const words = splitWords(prompt);
    const expectUnknown = unknownWords(prompt, known);
    const knownCount = words.length - expectUnknown.length;
    if (knownCount === 0 || knownCount > engine.info.maxTokens) continue;
    engine.begin({ prompt, seed: 1, steps: 1, guidance: 1 });
    assert.deepEqual(engine.unknownWords(), expectUnknown, JSON.stringify(prompt));
    engine.end();
    compared++;
  }
  assert.ok(compared > 100, `only ${compared} prompts compared`);
  engine.free();
});
