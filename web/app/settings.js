// The settings form: reads and validates it (naming the field that is wrong), fills it, rolls seeds.
import { MAX_FRAMES, MAX_SEED, parseSeed, randomSeed } from '../lib/kineto-request.js';

export { randomSeed };

// generate()'s option -> the form field (a key of the elements below).
const FIELDS = { prompt: 'prompt', negativePrompt: 'negative', seed: 'seed', steps: 'steps', guidance: 'guidance',
  renoise: 'renoise', frames: 'frames', fps: 'fps', seamless: 'seamless' };

export class SettingsForm {
  constructor(elements) {
    this.el = elements;   // {prompt, negative, seed, seedLock, dice, steps, guidance, renoise, frames, fps, seamless}
    this.el.dice.addEventListener('click', () => { this.el.seed.value = randomSeed(); });
    this.el.seed.addEventListener('input', () => { this.el.seedLock.checked = true; });
  }

  setLimits(info) {
    this.el.frames.max = MAX_FRAMES;   // past the model's window, the clip is made window by window
    this.el.steps.value ||= info.defaultSteps;
    this.el.guidance.value ||= info.defaultGuidance;
    if (this.el.renoise.value === '') this.el.renoise.value = info.defaultRenoise;   // 0 is a valid choice
    this.el.frames.value = Math.min(Number(this.el.frames.value) || info.frames, MAX_FRAMES);
    this.el.fps.value = info.fps;
    if (this.el.seed.value === '') this.el.seed.value = randomSeed();
  }

  // Draws a fresh seed for this run unless the seed is locked.
  nextSeed() {
    if (!this.el.seedLock.checked) this.el.seed.value = randomSeed();
  }

  // Returns the settings, or throws an Error whose `field` is the element to fix. With a storyboard
  // the shots carry the prompts, so the single prompt may be empty.
  read({ storyboard = false } = {}) {
    const prompt = this.el.prompt.value.trim();
    if (!prompt && !storyboard) fail(this.el.prompt, 'Type a prompt first, e.g. "a red ball moving left on black".');
    return {
      prompt,
      negativePrompt: this.el.negative.value.trim(),
      seed: seedIn(this.el.seed),
      steps: integerIn(this.el.steps, 'Steps', 1, Number(this.el.steps.max)),
      guidance: numberIn(this.el.guidance, 'Guidance', 0, Number(this.el.guidance.max)),
      renoise: numberIn(this.el.renoise, 'Renoise', 0, Number(this.el.renoise.max)),
      frames: integerIn(this.el.frames, 'Frames', 1, Number(this.el.frames.max)),
      fps: integerIn(this.el.fps, 'FPS', 1, Number(this.el.fps.max)),
      seamless: this.el.seamless.checked,
    };
  }

  // The input for a generate() option such as 'negativePrompt', or undefined.
  element(option) { return this.el[FIELDS[option]]; }

  // Fills the form from a share link or a history entry; the seed is locked so it is reused.
  write(settings) {
    for (const [name, field] of Object.entries(FIELDS)) {
      if (name === 'seamless') this.el.seamless.checked = settings.seamless === true;
      else if (settings[name] !== undefined) this.el[field].value = settings[name];
    }
    this.el.seedLock.checked = true;
    this.el.prompt.dispatchEvent(new Event('input', { bubbles: true }));
  }
}

function fail(field, message) {
  const error = new Error(message);
  error.field = field;
  throw error;
}

function numberIn(field, label, min, max) {
  const text = field.value.trim();
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || value < min || value > max) {
    fail(field, `${label} must be a number from ${min} to ${max}.`);
  }
  return value;
}

// Seeds are read as the engine and the CLI read them: decimal digits, 0..2^64-1.
function seedIn(field) {
  try {
    return parseSeed(field.value.trim());
  } catch {
    return fail(field, `Seed must be a whole number from 0 to ${MAX_SEED}, in decimal digits.`);
  }
}

function integerIn(field, label, min, max) {
  const value = numberIn(field, label, min, max);
  if (!Number.isInteger(value)) fail(field, `${label} must be a whole number from ${min} to ${max}.`);
  return value;
}
