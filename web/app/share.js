// Settings <-> URL hash, so a link reproduces the very same clip (the engine is deterministic).
// A storyboard adds one `shot=FRAMES:PROMPT` per shot, in order (p stays its first prompt, so
// older pages still read the link as a clip); a seamless loop adds loop=1.
const KEYS = { prompt: 'p', negativePrompt: 'n', seed: 'seed', steps: 'steps', guidance: 'g', renoise: 'r', frames: 'f',
  fps: 'fps' };
const SHOT = 'shot';
const LOOP = 'loop';

export function settingsToHash(settings) {
  const params = new URLSearchParams();
  for (const [name, key] of Object.entries(KEYS)) {
    const value = settings[name];
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  for (const shot of settings.shots ?? []) params.append(SHOT, `${shot.frames}:${shot.prompt}`);
  if (settings.seamless) params.set(LOOP, '1');
  return '#' + params.toString();
}

// Returns the settings found in the hash (strings parsed to numbers), or null when it has no prompt.
export function hashToSettings(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  if (!params.get(KEYS.prompt)) return null;
  const settings = {};
  for (const [name, key] of Object.entries(KEYS)) {
    if (!params.has(key)) continue;
    const raw = params.get(key);
    // a seed stays text: up to 2^64-1, beyond what a Number holds exactly
    settings[name] = name === 'prompt' || name === 'negativePrompt' || name === 'seed' ? raw : Number(raw);
  }
  const shots = params.getAll(SHOT).map((text) => {
    const colon = text.indexOf(':');   // a shot without one has no length: NaN, refused by name later
    return colon < 0 ? { prompt: text, frames: NaN } : { prompt: text.slice(colon + 1), frames: Number(text.slice(0, colon)) };
  });
  if (shots.length) settings.shots = shots;
  settings.seamless = params.get(LOOP) === '1';
  // A link made before renoise existed had Euler steps: renoise 0 reproduces its clip.
  if (!params.has(KEYS.renoise) && params.has(KEYS.seed)) settings.renoise = 0;
  return settings;
}

export function shareUrl(settings) {
  const url = new URL(location.href);
  url.hash = settingsToHash(settings);
  return url.href;
}
