// kineto-request.js — the prompt tokenizer's word rule, word suggestions and the checks on a
// generation request. kineto.js runs the checks before a request reaches the worker (so bad input
// gets a message naming the field) and re-exports the word functions for pages that flag words as
// the user types.

export const MAX_STEPS = 200;        // KINETO_MAX_STEPS in include/kineto.h
export const MAX_GUIDANCE = 30;      // KINETO_MAX_GUIDANCE
export const MAX_SEED = 18446744073709551615n; // the engine's u64; randomSeed() draws 32 bits
export const MAX_PROMPT_BYTES = 4096;  // KINETO_MAX_PROMPT_BYTES: each prompt, in UTF-8 bytes
export const MAX_FRAMES = 256;       // KINETO_MAX_FRAMES: of a clip, all shots together
export const MAX_SHOTS = 64;         // KINETO_MAX_SHOTS
export const MAX_IMAGE_SIDE = 8192;  // KINETO_MAX_IMAGE_SIDE: pixels, each side of a start image
export const MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024;  // the CLI's limit on an --image file

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

// label: what the message names when it is more precise than the field ("shots[2].prompt").
function fail(ErrorType, field, message, label = field) {
  const error = new ErrorType(`${label} ${message}`);
  error.field = field;
  return error;
}

function checkInteger(field, value, min, max, label = field) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw fail(RangeError, field, `must be an integer from ${min} to ${max} (got ${describe(value)})`, label);
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
function checkText(field, value, label = field) {
  if (typeof value !== 'string') throw fail(TypeError, field, `must be a string (got ${describe(value)})`, label);
  const bytes = utf8Length(value);
  if (bytes > MAX_PROMPT_BYTES) {
    throw fail(RangeError, field, `is too long: ${bytes} bytes of UTF-8, at most ${MAX_PROMPT_BYTES}`, label);
  }
  const nul = value.indexOf('\0');
  if (nul >= 0) throw fail(RangeError, field, `contains a NUL character (U+0000, at position ${nul}): remove it`, label);
  if (!wellFormed(value)) {
    throw fail(RangeError, field, 'contains a lone UTF-16 surrogate (half of an emoji or other character): it is not valid text',
      label);
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
function checkKnownWords(field, text, vocab, maxTokens, label = field) {
  const words = splitWords(text);
  const unknown = unknownWords(text, vocab);
  const knownCount = words.length - unknown.length;
  if (knownCount > maxTokens) {
    throw fail(RangeError, field, `is too long: ${knownCount} known words, at most ${maxTokens}`, label);
  }
  return { words, unknown, knownCount };
}

// One shot's prompt: text the engine reads, with at least one word it knows.
function checkShotPrompt(field, label, value, vocab, maxTokens) {
  const prompt = checkText(field, value, label);
  const { words, unknown, knownCount } = checkKnownWords(field, prompt, vocab, maxTokens, label);
  if (words.length === 0) {
    throw fail(RangeError, field, 'has no words: write a few words such as "a red ball moving left"', label);
  }
  if (knownCount === 0) throw fail(RangeError, field, `has no word the model knows (unknown: ${unknown.join(', ')})`, label);
  return { prompt, unknown };
}

// The clip's shots from prompt (a string, or an array of one prompt per shot) or shots
// ([{prompt, frames}]), and its length. An array of prompts splits `frames` as the CLI splits
// --frames over repeated --prompt: evenly, the first shots a frame longer; without `frames`, each
// shot is the model's window. Returns {shots: [{prompt, frames}], frames, storyboard}: a storyboard
// is false for a single prompt, which the engine makes exactly as before storyboards existed.
function planShots(request, info, vocab) {
  const { prompt, shots } = request;
  if (shots !== undefined && prompt !== undefined) {
    throw fail(TypeError, 'shots', 'cannot be given with prompt: give each shot its prompt in shots, or only prompt');
  }
  const readFrames = () => checkInteger('frames', request.frames ?? info.frames, 1, MAX_FRAMES);
  if (shots !== undefined) {
    if (!Array.isArray(shots)) throw fail(TypeError, 'shots', `must be an array of {prompt, frames} (got ${describe(shots)})`);
    checkShotCount('shots', shots.length);
    const planned = shots.map((shot, i) => {
      if (shot == null || typeof shot !== 'object') {
        throw fail(TypeError, 'shots', `must be an object {prompt, frames} (got ${describe(shot)})`, `shots[${i}]`);
      }
      const { prompt: text, unknown } = checkShotPrompt('shots', `shots[${i}].prompt`, shot.prompt, vocab, info.maxTokens);
      const frames = checkInteger('shots', shot.frames ?? info.frames, 1, MAX_FRAMES, `shots[${i}].frames`);
      return { prompt: text, frames, unknown };
    });
    const total = planned.reduce((n, shot) => n + shot.frames, 0);
    if (total > MAX_FRAMES) throw fail(RangeError, 'shots', `add up to ${total} frames, at most ${MAX_FRAMES}`);
    if (request.frames !== undefined && request.frames !== total) {
      throw fail(RangeError, 'frames', `must be the shots' ${total} frames when shots are given (got ${describe(request.frames)})`);
    }
    return { shots: planned, frames: total, storyboard: true };
  }
  if (!Array.isArray(prompt)) {
    const { prompt: text, unknown } = checkShotPrompt('prompt', 'prompt', prompt ?? '', vocab, info.maxTokens);
    const frames = readFrames();
    return { shots: [{ prompt: text, frames, unknown }], frames, storyboard: false };
  }
  if (prompt.length === 0) throw fail(RangeError, 'prompt', 'is an empty array: give at least one prompt');
  checkShotCount('prompt', prompt.length);
  const texts = prompt.map((text, i) => checkShotPrompt('prompt', `prompt[${i}]`, text, vocab, info.maxTokens));
  if (texts.length === 1) {
    const frames = readFrames();
    return { shots: [{ ...texts[0], frames }], frames, storyboard: false };
  }
  const n = texts.length;
  if (request.frames !== undefined) {
    const frames = checkInteger('frames', request.frames, n, MAX_FRAMES);   // at least a frame per shot
    const split = texts.map((text, i) => ({ ...text, frames: Math.floor(frames / n) + (i < frames % n ? 1 : 0) }));
    return { shots: split, frames, storyboard: true };
  }
  if (n * info.frames > MAX_FRAMES) {
    throw fail(RangeError, 'frames', `is needed: ${n} shots of ${info.frames} frames make ${n * info.frames}, ` +
      `over the clip's ${MAX_FRAMES}`);
  }
  return { shots: texts.map((text) => ({ ...text, frames: info.frames })), frames: n * info.frames, storyboard: true };
}

function checkShotCount(field, n) {
  if (n > MAX_SHOTS) throw fail(RangeError, field, `has ${n} shots, at most ${MAX_SHOTS}`);
}

// Checks a generate() request against the model's info and fills in the defaults.
// Throws a TypeError/RangeError whose message names the field and its valid range.
export function checkRequest(request, info, vocab) {
  if (request == null || typeof request !== 'object') throw new TypeError('generate() needs an options object');
  const known = vocab instanceof Set ? vocab : new Set(vocab);
  const { shots, frames, storyboard } = planShots(request, info, known);
  const negativePrompt = checkText('negativePrompt', request.negativePrompt ?? '');
  const negative = checkKnownWords('negativePrompt', negativePrompt, known, info.maxTokens);
  const steps = checkInteger('steps', request.steps ?? info.defaultSteps, 1, MAX_STEPS);
  const guidance = request.guidance ?? info.defaultGuidance;
  if (typeof guidance !== 'number' || !Number.isFinite(guidance) || guidance < 0 || guidance > MAX_GUIDANCE) {
    throw fail(RangeError, 'guidance', `must be a number from 0 to ${MAX_GUIDANCE} (got ${describe(guidance)})`);
  }
  const renoise = request.renoise ?? info.defaultRenoise;
  if (typeof renoise !== 'number' || !Number.isFinite(renoise) || renoise < 0 || renoise > 1) {
    throw fail(RangeError, 'renoise', `must be a number from 0 to 1 (got ${describe(renoise)})`);
  }
  const seamless = request.seamless ?? false;
  if (typeof seamless !== 'boolean') throw fail(TypeError, 'seamless', `must be true or false (got ${describe(seamless)})`);
  if (seamless && frames < 2) throw fail(RangeError, 'seamless', 'needs a clip of at least 2 frames (frames is 1)');
  const imageKind = request.image == null ? null : checkImage(request.image, frames, info);   // null: no image
  const seed = parseSeed(request.seed ?? randomSeed());
  // the engine's list: each shot's unknown words in order, then the negative prompt's
  const unknown = [...shots.flatMap((shot) => shot.unknown), ...negative.unknown];
  const result = { prompt: shots[0].prompt, negativePrompt, steps, guidance, renoise, frames, seamless, seed,
    unknownWords: unknown };
  if (storyboard) result.shots = shots.map(({ prompt, frames }) => ({ prompt, frames }));
  if (imageKind) [result.image, result.imageKind] = [request.image, imageKind];
  return result;
}

// A start image's kind: 'pixels' (an ImageData), 'bitmap' (an ImageBitmap) or 'file' (a Blob or
// File of PNG or JPEG bytes, decoded in the worker by the CLI's decoder). Sizes known without
// decoding are checked here; a file's stated size is checked by the decoder before any pixel.
function checkImage(image, frames, info) {
  const kind = typeof ImageData === 'function' && image instanceof ImageData ? 'pixels'
    : typeof ImageBitmap === 'function' && image instanceof ImageBitmap ? 'bitmap'
      : typeof Blob === 'function' && image instanceof Blob ? 'file' : null;
  if (!kind) {
    throw fail(TypeError, 'image',
      `must be an ImageData, an ImageBitmap or a Blob (File) of a PNG or JPEG (got ${describe(image)})`);
  }
  if (kind === 'file' && image.size > MAX_IMAGE_FILE_BYTES) {
    throw fail(RangeError, 'image',
      `is a file of ${image.size} bytes, over the ${MAX_IMAGE_FILE_BYTES >> 20} MB an image file may have`);
  }
  if (kind !== 'file') {
    const { width, height } = image;   // a closed ImageBitmap is 0x0
    if (!(width >= 1 && width <= MAX_IMAGE_SIDE && height >= 1 && height <= MAX_IMAGE_SIDE)) {
      throw fail(RangeError, 'image', `is ${width}x${height} pixels: each side must be 1..${MAX_IMAGE_SIDE}` +
        (kind === 'bitmap' && !width && !height ? ' (a closed ImageBitmap?)' : ''));
    }
  }
  if (info.hasEncoder === false) {
    throw fail(RangeError, 'image',
      'needs weights that hold the VAE encoder: this model has none, so it cannot start from an image');
  }
  if (frames < 2) throw fail(RangeError, 'image', `needs a clip of at least 2 frames (frames is ${frames})`);
  return kind;
}

export function randomSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
