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
  bad({ prompt: 'ball', frames: 257 }, 'frames', /integer from 1 to 256 \(got 257\)/);
  bad({ prompt: 'ball', frames: 0 }, 'frames', /1 to 256/);
  bad({ prompt: 'ball', frames: 16.5 }, 'frames', /integer from 1 to 256/);
  bad({ prompt: 'ball', frames: '32' }, 'frames', /integer from 1 to 256/);
  assert.equal(checkRequest({ prompt: 'ball', frames: 256 }, info, vocab).frames, 256, 'past the window, up to 256');
  bad({ prompt: 'ball', negativePrompt: {} }, 'negativePrompt', /must be a string/);
  bad({ prompt: 'ball', negativePrompt: 'red ball moving left a' }, 'negativePrompt', /too long: 5 known words, at most 4/);
  bad({ prompt: 'ball', negativePrompt: 'red red red red red zebra' }, 'negativePrompt', /too long: 5 known words/);
  assert.equal(checkRequest({ prompt: 'ball', negativePrompt: 'red ball moving left zebra' }, info, vocab).negativePrompt,
    'red ball moving left zebra', 'four known words are allowed; unknown ones do not count');
  assert.throws(() => checkRequest(null, info, vocab), /options object/);
});

test('a storyboard splits frames over its prompts as the CLI splits --frames', () => {
  const r = checkRequest({ prompt: ['red ball', 'a ball moving left', 'red'], frames: 50, seed: 1 }, info, vocab);
  assert.deepEqual(r.shots.map((s) => s.frames), [17, 17, 16], 'evenly, the first shots a frame longer');
  assert.deepEqual(r.shots.map((s) => s.prompt), ['red ball', 'a ball moving left', 'red']);
  assert.equal(r.frames, 50);
  assert.equal(r.prompt, 'red ball');
  // without frames, each shot is the model's window
  assert.deepEqual(checkRequest({ prompt: ['ball', 'red'] }, info, vocab).shots, [{ prompt: 'ball', frames: 16 },
    { prompt: 'red', frames: 16 }]);
  // one prompt in an array is a plain clip, as one --prompt is
  const one = checkRequest({ prompt: ['ball'], frames: 40 }, info, vocab);
  assert.equal(one.shots, undefined);
  assert.deepEqual([one.prompt, one.frames], ['ball', 40]);
  const shots = checkRequest({ shots: [{ prompt: 'ball', frames: 3 }, { prompt: 'zebra red', frames: 9 }],
    negativePrompt: 'left cat' }, info, vocab);
  assert.deepEqual(shots.shots, [{ prompt: 'ball', frames: 3 }, { prompt: 'zebra red', frames: 9 }]);
  assert.equal(shots.frames, 12);
  assert.deepEqual(shots.unknownWords, ['zebra', 'cat'], "each shot's unknown words, then the negative prompt's");
  assert.equal(shots.seamless, false);
  assert.equal(checkRequest({ prompt: 'ball', frames: 2, seamless: true }, info, vocab).seamless, true);
  assert.equal(checkRequest({ prompt: 'ball', seamless: true }, info, vocab).shots, undefined, 'a loop of one shot');
});

test('checkRequest names the shot or field of a bad storyboard', () => {
  const bad = (request, field, pattern) => assert.throws(() => checkRequest(request, info, vocab),
    (e) => (e instanceof RangeError || e instanceof TypeError) && e.field === field && pattern.test(e.message),
    JSON.stringify(request));
  bad({ prompt: ['ball', ''] }, 'prompt', /^prompt\[1\] has no words/);
  bad({ prompt: ['ball', ' , '] }, 'prompt', /^prompt\[1\] has no words/);
  bad({ prompt: ['ball', 'zebra'] }, 'prompt', /^prompt\[1\] has no word the model knows \(unknown: zebra\)/);
  bad({ prompt: ['ball', 7] }, 'prompt', /^prompt\[1\] must be a string/);
  bad({ prompt: ['ball', 'red\u0000'] }, 'prompt', /^prompt\[1\] contains a NUL/);
  bad({ prompt: ['ball', 'red red red red red'] }, 'prompt', /^prompt\[1\] is too long: 5 known words/);
  bad({ prompt: [] }, 'prompt', /empty array/);
  bad({ prompt: ['ball', 'red', 'left'], frames: 2 }, 'frames', /integer from 3 to 256 \(got 2\)/);
  bad({ prompt: Array(17).fill('ball') }, 'frames', /17 shots of 16 frames make 272, over the clip's 256/);
  bad({ prompt: Array(65).fill('ball'), frames: 256 }, 'prompt', /has 65 shots, at most 64/);
  bad({ shots: Array(65).fill({ prompt: 'ball', frames: 1 }) }, 'shots', /has 65 shots, at most 64/);
  bad({ shots: [{ prompt: 'ball', frames: 4 }, { prompt: 'red', frames: 0 }] }, 'shots',
    /^shots\[1\]\.frames must be an integer from 1 to 256 \(got 0\)/);
  bad({ shots: [{ prompt: 'ball', frames: 4 }, { prompt: '', frames: 4 }] }, 'shots', /^shots\[1\]\.prompt has no words/);
  bad({ shots: [{ prompt: 'ball', frames: 200 }, { prompt: 'red', frames: 57 }] }, 'shots', /add up to 257 frames, at most 256/);
  bad({ shots: [{ prompt: 'ball', frames: 4 }], frames: 5 }, 'frames', /must be the shots' 4 frames/);
  bad({ shots: [{ prompt: 'ball', frames: 4 }], prompt: 'red' }, 'shots', /cannot be given with prompt/);
  bad({ shots: 'ball' }, 'shots', /must be an array/);
  bad({ shots: [null] }, 'shots', /^shots\[0\] must be an object/);
  bad({ prompt: 'ball', frames: 1, seamless: true }, 'seamless', /at least 2 frames/);
  bad({ shots: [{ prompt: 'ball', frames: 1 }], seamless: true }, 'seamless', /at least 2 frames/);
  bad({ prompt: 'ball', seamless: 'yes' }, 'seamless', /true or false/);
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
