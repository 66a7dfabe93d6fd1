// Settings <-> URL hash, so a link reproduces the very same clip (the engine is deterministic).
const KEYS = { prompt: 'p', negativePrompt: 'n', seed: 'seed', steps: 'steps', guidance: 'g', renoise: 'r', frames: 'f',
  fps: 'fps' };

export function settingsToHash(settings) {
  const params = new URLSearchParams();
  for (const [name, key] of Object.entries(KEYS)) {
    const value = settings[name];
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
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
  // A link made before renoise existed had Euler steps: renoise 0 reproduces its clip.
  if (!params.has(KEYS.renoise) && params.has(KEYS.seed)) settings.renoise = 0;
  return settings;
}

export function shareUrl(settings) {
  const url = new URL(location.href);
  url.hash = settingsToHash(settings);
  return url.href;
}
