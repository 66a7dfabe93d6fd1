// kineto-request.js — the prompt tokenizer's word rule, word suggestions and the checks on a
// generation request. kineto.js runs the checks before a request reaches the worker (so bad input
// gets a message naming the field) and re-exports the word functions for pages that flag words as
// the user types.

export const MAX_STEPS = 200;        // KINETO_MAX_STEPS in include/kineto.h
export const MAX_GUIDANCE = 30;      // KINETO_MAX_GUIDANCE
export const MAX_SEED = 18446744073709551615n; // the engine's u64; randomSeed() draws 32 bits
export const MAX_PROMPT_BYTES = 4096;  // KINETO_MAX_PROMPT_BYTES: each prompt, in UTF-8 bytes

const isWordChar = (c) => (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 39; // a-z 0-9 '

const KELVIN_SIGN = 0x212a;          // Python's lower() makes it "k", so the tokenizer does too
const CAPITAL_I_WITH_DOT = 0x0130;   // lower() makes it "i" + a combining dot, which ends the word
const MAX_WORD = 255;                // longer words are never in the vocabulary

// The words the engine sees, as src/tokenizer.c splits them: ASCII letters lower-cased, runs of
// [a-z0-9'], any other character separates.
export function splitWords(text) {
  const words = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    else if (c === KELVIN_SIGN) c = 107;
    if (isWordChar(c)) {
      current += String.fromCharCode(c);
    } else if (c === CAPITAL_I_WITH_DOT) {
      words.push(current + 'i');
      current = '';
    } else if (current) {
      words.push(current);
      current = '';
    }
  }
  if (current) words.push(current);
  return words;
}

// Words of text that the model does not know, in order, repeats kept (as the engine lists them).
// vocab: an array of words or a Set; "<null>" is never a known word.
export function unknownWords(text, vocab) {
  const known = vocab instanceof Set ? vocab : new Set(vocab);
  return splitWords(String(text)).filter((w) => !known.has(w) || w === '<null>')
    .map((w) => w.slice(0, MAX_WORD));
}

// Edit distance with adjacent transpositions counted as one edit ("purpel" is one from "purple").
function editDistance(a, b) {
  let prev2 = null;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (prev2 && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length];
}

// A word without its ending, so that the forms of a verb or a plural meet: bounces, bounced,
// bounce and bouncing give "bounc"; spins and spinning give "spin".
function stem(word) {
  const base = word.replace(/(ing|es|ed|s|e)$/, '');
  return /([^aeiou])\1$/.test(base) ? base.slice(0, -1) : base;
}

// The known word an unknown one was probably meant to be, or null: another form of it ("bounces"
// for "bouncing"), else a known word it extends by a short ending ("squares"), else the nearest
// known word within one edit (two for words of five letters or more). Words of under three letters
// neither get nor make a suggestion: too many words are near them.
export function suggestWord(word, vocab) {
  if (word.length < 3) return null;
  const known = [...vocab].filter((w) => w.length >= 3 && w !== '<null>' && w !== word); // not "a", "at"...
  const s = stem(word);
  const sameStem = s.length >= 3 && known.find((w) => stem(w) === s);
  if (sameStem) return sameStem;
  const extended = known.filter((w) => word.startsWith(w) && word.length - w.length <= 3);
  if (extended.length) return extended.reduce((x, y) => (y.length > x.length ? y : x));
  let best = null;
  let bestDistance = word.length >= 5 ? 2 : 1;
  for (const w of known) {
    if (Math.abs(w.length - word.length) > bestDistance) continue;
    const d = editDistance(word, w);
    if (d < bestDistance || (d === bestDistance && !best)) [best, bestDistance] = [w, d];
  }
  return best;
}

function fail(ErrorType, field, message) {
  const error = new ErrorType(`${field} ${message}`);
  error.field = field;
  return error;
}

function checkInteger(field, value, min, max) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw fail(RangeError, field, `must be an integer from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

function describe(value) {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value == null) return String(value);
  return typeof value;
}

// A lone UTF-16 surrogate: half of a pair without the other half.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const wellFormed = (text) => (typeof text.isWellFormed === 'function' ? text.isWellFormed() : !LONE_SURROGATE.test(text));

// A prompt reaches C as a NUL-terminated UTF-8 string: a NUL would cut it short (the engine would
// read less than the page shows) and a lone surrogate has no UTF-8 form, so both are refused.
function checkText(field, value) {
  if (typeof value !== 'string') throw fail(TypeError, field, `must be a string (got ${describe(value)})`);
  const bytes = utf8Length(value);
  if (bytes > MAX_PROMPT_BYTES) {
    throw fail(RangeError, field, `is too long: ${bytes} bytes of UTF-8, at most ${MAX_PROMPT_BYTES}`);
  }
  const nul = value.indexOf('\0');
  if (nul >= 0) throw fail(RangeError, field, `contains a NUL character (U+0000, at position ${nul}): remove it`);
  if (!wellFormed(value)) {
    throw fail(RangeError, field, 'contains a lone UTF-16 surrogate (half of an emoji or other character): it is not valid text');
  }
  return value;
}

// UTF-8 length without encoding (a lone surrogate counts 3, as U+FFFD would).
function utf8Length(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) n += 4, i++;
    else n += 3;
  }
  return n;
}

// A seed as the engine and the CLI read it: a whole number 0..2^64-1 given as a number (a safe
// integer), a bigint, or a string of decimal digits only ("010" is ten; no sign, space, "0x" or
// exponent). Returns it as a number when it is a safe integer, else as its decimal string.
export function parseSeed(value, field = 'seed') {
  let seed = null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) seed = BigInt(value);
  else if (typeof value === 'bigint' && value >= 0n) seed = value;
  else if (typeof value === 'string' && /^[0-9]+$/.test(value)) seed = BigInt(value);
  if (seed === null || seed > MAX_SEED) {
    throw fail(RangeError, field, `must be a whole number from 0 to ${MAX_SEED}, written in decimal digits (got ${describe(value)})`);
  }
  return seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed.toString();
}

// The known words of text, which the engine reads at most maxTokens of.
function checkKnownWords(field, text, vocab, maxTokens) {
  const words = splitWords(text);
  const unknown = unknownWords(text, vocab);
  const knownCount = words.length - unknown.length;
  if (knownCount > maxTokens) throw fail(RangeError, field, `is too long: ${knownCount} known words, at most ${maxTokens}`);
  return { words, unknown, knownCount };
}

// Checks a generate() request against the model's info and fills in the defaults.
// Throws a TypeError/RangeError whose message names the field and its valid range.
export function checkRequest(request, info, vocab) {
  if (request == null || typeof request !== 'object') throw new TypeError('generate() needs an options object');
  const prompt = checkText('prompt', request.prompt ?? '');
  const { words, unknown, knownCount } = checkKnownWords('prompt', prompt, vocab, info.maxTokens);
  if (words.length === 0) throw fail(RangeError, 'prompt', 'has no words: write a few words such as "a red ball moving left"');
  if (knownCount === 0) {
    throw fail(RangeError, 'prompt', `has no word the model knows (unknown: ${unknown.join(', ')})`);
  }
  const negativePrompt = checkText('negativePrompt', request.negativePrompt ?? '');
  const negative = checkKnownWords('negativePrompt', negativePrompt, vocab, info.maxTokens);
  const steps = checkInteger('steps', request.steps ?? info.defaultSteps, 1, MAX_STEPS);
  const guidance = request.guidance ?? info.defaultGuidance;
  if (typeof guidance !== 'number' || !Number.isFinite(guidance) || guidance < 0 || guidance > MAX_GUIDANCE) {
    throw fail(RangeError, 'guidance', `must be a number from 0 to ${MAX_GUIDANCE} (got ${describe(guidance)})`);
  }
  const renoise = request.renoise ?? info.defaultRenoise;
  if (typeof renoise !== 'number' || !Number.isFinite(renoise) || renoise < 0 || renoise > 1) {
    throw fail(RangeError, 'renoise', `must be a number from 0 to 1 (got ${describe(renoise)})`);
  }
  const frames = checkInteger('frames', request.frames ?? info.frames, 1, info.frames);
  const seed = parseSeed(request.seed ?? randomSeed());
  // the engine's list: the prompt's unknown words, then the negative prompt's
  return { prompt, negativePrompt, steps, guidance, renoise, frames, seed, unknownWords: [...unknown, ...negative.unknown] };
}

export function randomSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
