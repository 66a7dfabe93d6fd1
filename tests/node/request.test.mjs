// The JS side's word rule and request checks (web/lib/kineto-request.js) and the SIMD probe.
import test from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { splitWords, unknownWords, checkRequest, MAX_SEED } from '../../web/lib/kineto-request.js';
import { simdSupported, pickVariant, describeMode } from '../../web/lib/kineto-engine.js';

const info = { frames: 16, width: 64, height: 64, fps: 8, maxTokens: 4, defaultSteps: 16, defaultGuidance: 3,
  defaultRenoise: 0.7 };
const vocab = new Set(['a', 'red', 'ball', 'moving', 'left', "it's"]);

test('splitWords lower-cases ASCII and splits on everything but [a-z0-9\']', () => {
  assert.deepEqual(splitWords('A RED-ball, moving\tleft!'), ['a', 'red', 'ball', 'moving', 'left']);
  assert.deepEqual(splitWords("it's 2 balls"), ["it's", '2', 'balls']);
  assert.deepEqual(splitWords('café über'), ['caf', 'ber']);
  assert.deepEqual(splitWords(''), []);
  assert.deepEqual(splitWords('  \n '), []);
});

test('splitWords follows the two non-ASCII characters Python lower-cases to ASCII', () => {
  assert.deepEqual(splitWords('\u212Aite'), ['kite']);          // Kelvin sign -> k, word goes on
  assert.deepEqual(splitWords('b\u0130g'), ['bi', 'g']);        // I with dot -> i, word ends
});

test('unknownWords lists the words outside the vocabulary, in order, with repeats', () => {
  assert.deepEqual(unknownWords('a Red cat and a dog cat', vocab), ['cat', 'and', 'dog', 'cat']);
  assert.deepEqual(unknownWords('a red ball', [...vocab]), []);
});

test('checkRequest fills the model defaults', () => {
  const r = checkRequest({ prompt: 'a red ball', seed: 5 }, info, vocab);
  assert.equal(r.steps, 16);
  assert.equal(r.guidance, 3);
  assert.equal(r.renoise, 0.7);
  assert.equal(checkRequest({ prompt: 'ball', renoise: 0 }, info, vocab).renoise, 0, '0 is kept, not the default');
  assert.equal(r.frames, 16);
  assert.equal(r.seed, 5);
  assert.equal(r.negativePrompt, '');
  const random = checkRequest({ prompt: 'ball' }, info, vocab);
  assert.ok(Number.isInteger(random.seed) && random.seed >= 0 && random.seed <= MAX_SEED);
});

test('checkRequest names the field and its range for bad input', () => {
  const bad = (request, field, pattern) => assert.throws(() => checkRequest(request, info, vocab),
    (e) => e.field === field && pattern.test(e.message), inspect(request));
  bad({ prompt: '' }, 'prompt', /no words/);
  bad({ prompt: ' ,.! ' }, 'prompt', /no words/);
  bad({ prompt: 'cat dog' }, 'prompt', /no word the model knows.*cat, dog/);
  bad({ prompt: 'a red ball moving left' }, 'prompt', /too long: 5 known words, at most 4/);
  bad({ prompt: 'x'.repeat(4097) }, 'prompt', /too long: 4097 bytes of UTF-8, at most 4096/);
  bad({ prompt: 'ball ' + 'é'.repeat(2046) }, 'prompt', /too long: 4097 bytes/);   // 2 bytes each
  bad({ prompt: 'ball', negativePrompt: 'x'.repeat(4097) }, 'negativePrompt', /too long: 4097 bytes/);
  assert.equal(checkRequest({ prompt: 'ball ' + 'x'.repeat(4091) }, info, vocab).unknownWords.length, 1, '4096 bytes pass');
  bad({ prompt: 42 }, 'prompt', /must be a string/);
  bad({ prompt: 'ball', steps: 0 }, 'steps', /integer from 1 to 200 \(got 0\)/);
  bad({ prompt: 'ball', steps: 201 }, 'steps', /1 to 200/);
  bad({ prompt: 'ball', steps: 2.5 }, 'steps', /integer/);
  bad({ prompt: 'ball', steps: '8' }, 'steps', /integer/);
  bad({ prompt: 'ball', guidance: NaN }, 'guidance', /number from 0 to 30 \(got NaN\)/);
  bad({ prompt: 'ball', guidance: Infinity }, 'guidance', /0 to 30/);
  bad({ prompt: 'ball', guidance: -1 }, 'guidance', /0 to 30/);
  bad({ prompt: 'ball', renoise: 1.5 }, 'renoise', /number from 0 to 1 \(got 1\.5\)/);
  bad({ prompt: 'ball', renoise: -0.1 }, 'renoise', /0 to 1/);
  bad({ prompt: 'ball', renoise: NaN }, 'renoise', /0 to 1/);
  bad({ prompt: 'ball', renoise: '0.5' }, 'renoise', /0 to 1/);
  bad({ prompt: 'ball', seed: -1 }, 'seed', /whole number from 0 to 18446744073709551615/);
  bad({ prompt: 'ball', seed: 2 ** 53 }, 'seed', /0 to 18446744073709551615/);   // not exact as a Number
  bad({ prompt: 'ball', seed: 1.5 }, 'seed', /whole number/);
  for (const seed of ['-1', ' 1', '+1', '1 ', '0x10', '1e3', '', '18446744073709551616', 2n ** 64n, -1n]) {
    bad({ prompt: 'ball', seed }, 'seed', /decimal digits/);
  }
  // as the CLI reads --seed: decimal digits, leading zeros allowed, up to 2^64-1
  assert.equal(checkRequest({ prompt: 'ball', seed: '010' }, info, vocab).seed, 10);
  assert.equal(checkRequest({ prompt: 'ball', seed: 2 ** 32 }, info, vocab).seed, 2 ** 32);
  assert.equal(checkRequest({ prompt: 'ball', seed: '18446744073709551615' }, info, vocab).seed, '18446744073709551615');
  assert.equal(checkRequest({ prompt: 'ball', seed: 2n ** 64n - 1n }, info, vocab).seed, '18446744073709551615');
  assert.equal(checkRequest({ prompt: 'ball', seed: 9007199254740993n }, info, vocab).seed, '9007199254740993');
  bad({ prompt: 'ball', frames: 17 }, 'frames', /integer from 1 to 16/);
  bad({ prompt: 'ball', frames: 0 }, 'frames', /1 to 16/);
  bad({ prompt: 'ball', negativePrompt: {} }, 'negativePrompt', /must be a string/);
  bad({ prompt: 'ball', negativePrompt: 'red ball moving left a' }, 'negativePrompt', /too long: 5 known words, at most 4/);
  bad({ prompt: 'ball', negativePrompt: 'red red red red red zebra' }, 'negativePrompt', /too long: 5 known words/);
  assert.equal(checkRequest({ prompt: 'ball', negativePrompt: 'red ball moving left zebra' }, info, vocab).negativePrompt,
    'red ball moving left zebra', 'four known words are allowed; unknown ones do not count');
  assert.throws(() => checkRequest(null, info, vocab), /options object/);
});

test('checkRequest refuses a NUL or a lone surrogate in either prompt, naming the field', () => {
  const bad = (request, field, pattern) => assert.throws(() => checkRequest(request, info, vocab),
    (e) => e instanceof RangeError && e.field === field && pattern.test(e.message), JSON.stringify(request));
  const NUL = /contains a NUL character/;
  bad({ prompt: 'red\u0000 ball' }, 'prompt', NUL);            // a share link's #p=red%00%20ball
  bad({ prompt: '\u0000' }, 'prompt', NUL);
  bad({ prompt: 'ball\u0000' }, 'prompt', /NUL character \(U\+0000, at position 4\)/);
  bad({ prompt: 'ball', negativePrompt: 'red\u0000' }, 'negativePrompt', NUL);
  const SURROGATE = /lone UTF-16 surrogate/;
  bad({ prompt: 'red \ud800 ball' }, 'prompt', SURROGATE);      // a high half alone
  bad({ prompt: 'red ball \udfff' }, 'prompt', SURROGATE);      // a low half alone
  bad({ prompt: 'red ball \udc00\ud800' }, 'prompt', SURROGATE); // both halves, in the wrong order
  bad({ prompt: 'ball', negativePrompt: '\ud83d' }, 'negativePrompt', SURROGATE);
  // The same verdicts without String.prototype.isWellFormed (the fallback's regular expression).
  const isWellFormed = String.prototype.isWellFormed;
  delete String.prototype.isWellFormed;
  try {
    bad({ prompt: 'red \ud800 ball' }, 'prompt', SURROGATE);
    bad({ prompt: 'red ball \udfff' }, 'prompt', SURROGATE);
    bad({ prompt: 'red ball \udc00\ud800' }, 'prompt', SURROGATE);
    assert.equal(checkRequest({ prompt: 'a red ball \ud83d\udd34' }, info, vocab).prompt, 'a red ball \ud83d\udd34');
  } finally {
    String.prototype.isWellFormed = isWellFormed;
  }
  // A whole pair (an emoji) is well-formed text.
  assert.equal(checkRequest({ prompt: 'a red ball \ud83d\udd34' }, info, vocab).prompt, 'a red ball 🔴');
});

test('the SIMD probe is a valid module only with SIMD, and picks a build', () => {
  assert.equal(simdSupported(), true, 'Node 20 has WebAssembly SIMD');
  assert.equal(pickVariant(), 'simd-mt');   // Node has SharedArrayBuffer and no COOP/COEP rule
  // The same module with its v128 result type changed to i32 no longer validates: the probe
  // really depends on SIMD and is not trivially valid.
  assert.equal(WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 0x7f,
    3, 2, 1, 0, 10, 22, 1, 20, 0, 0xfd, 12, ...new Array(16).fill(0), 11])), false);
  assert.equal(describeMode('simd-mt', 3), 'simd+threads (3)');
  assert.equal(describeMode('base', 1), 'base');
});
