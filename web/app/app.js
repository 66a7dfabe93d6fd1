// Kineto's page: wires the prompt, settings, engine, progress, player, history, export and share link.
import { init, generate, checkRequest, unknownWords, suggestWord, DEFAULT_WEIGHTS_URL, VERSION } from '../lib/kineto.js';
import { INLINE, builtInModel as pageModel } from './model.js';
import { renderVocabulary, insertText } from './vocab.js';
import { SettingsForm } from './settings.js';
import { Storyboard } from './storyboard.js';
import { StartImage } from './start-image.js';
import { Progress } from './progress.js';
import { createPlayer } from './player-controls.js';
import { History } from './history.js';
import { hashToSettings, settingsToHash, shareUrl } from './share.js';
import { registerOffline, keepOffline, dropCachedWeights } from './offline.js';
import { exportGif, exportWebm, exportPngZip, download, labelExportSizes } from './export.js';

const $ = (id) => document.getElementById(id);
const page = new URLSearchParams(location.search);
const narrowScreen = matchMedia('(max-width: 40rem)');
const form = new SettingsForm({
  prompt: $('prompt'), negative: $('negative'), seed: $('seed'), seedLock: $('seed-lock'), dice: $('dice'),
  steps: $('steps'), guidance: $('guidance'), renoise: $('renoise'), frames: $('frames'), fps: $('fps'),
  seamless: $('seamless'),
});
const storyboard = new Storyboard({ form: $('prompt-form'), list: $('shots'), add: $('add-shot'), prompt: $('prompt'),
  frames: $('frames') });
const startImage = new StartImage({ input: $('image-file'), chosen: $('image-chosen'), thumb: $('image-thumb'),
  name: $('image-name'), remove: $('image-remove') },
(label) => say(label ? `The next clip starts from ${label}.` : 'The next clip starts from noise.'));
const progress = new Progress($('progress'), $('progress-bar'), $('progress-text'));
const player = createPlayer($);
const clips = new History($('history-list'), $('history-empty'), replay);
let engine = null;      // {mode, info} once the engine is ready
let running = null;     // AbortController of the generation in progress
let current = null;     // {clip, settings} shown in the player
let runsEnded = 0;

function setState(state) { document.body.dataset.state = state; }

function say(message, kind = 'info') {
  $('status').textContent = message;
  $('status').dataset.kind = kind;
}

// ---- engine start

const builtInModel = pageModel(page);

async function startEngine() {
  setState('loading');
  $('isolation-note').hidden = self.crossOriginIsolated === true;
  let refetched = false;
  try {
    applyEngine(await init(builtInModel));
  } catch (error) {
    if (!/checksum|crc/i.test(error.message)) throw error;
    say('The saved model was damaged; downloading it again…');
    await dropCachedWeights();
    applyEngine(await init(builtInModel));
    refetched = true;
  }
  showOfflineReady(builtInModel.weightsUrl ?? DEFAULT_WEIGHTS_URL);
  say(refetched ? 'Ready. The saved copy of the model was damaged, so it was downloaded again.' : 'Ready.');
  const linked = hashToSettings(location.hash);
  if (linked) {
    writeSettings(linked);
    runGeneration();
  }
}

function applyEngine(ready) {
  engine = ready;
  $('mode').textContent = engine.mode;
  form.setLimits(engine.info);
  labelExportSizes($('export-scale'), engine.info.width, engine.info.height);
  storyboard.window = engine.info.frames;
  renderVocabulary($('vocab-groups'), engine.info.vocab, (text) => insertText(storyboard.promptTarget(), text));
  flagUnknownWords();
  $('generate').disabled = false;
  setState('ready');
}

// A model file from the user's device replaces the built-in model until the page is reloaded.
async function useModelFile(file) {
  running?.abort();
  engine = null;
  $('generate').disabled = true;
  setState('loading');
  say(`Loading the model file ${file.name}…`);
  try {
    applyEngine(await init({ workerUrl: builtInModel.workerUrl, weights: await file.arrayBuffer() }));
    say(`Using the model file ${file.name}. Links you share expect Kineto's built-in model.`);
  } catch (error) {
    const reason = `${file.name} cannot be used: ${error.message}.`;
    try {
      applyEngine(await init(builtInModel));
      say(`${reason} Kineto keeps its built-in model.`, 'error');
    } catch {
      fail(reason);   // no built-in model either (e.g. none was built)
    }
  }
}

async function showOfflineReady(weightsUrl) {
  if (!await offline) return;
  try {
    if (await keepOffline(['./', 'app.js', weightsUrl])) $('offline').textContent = 'Works offline';
  } catch { /* stays online-only; nothing to tell */ }
}

// Flags the unknown words of the prompt being edited (the single prompt or a shot's).
function flagUnknownWords() {
  if (!engine) return;
  const field = storyboard.promptTarget();
  const unknown = unknownWords(field.value, engine.info.vocab);
  const note = $('unknown-words');
  note.replaceChildren();
  if (unknown.length) note.append(`Kineto does not know `);
  unknown.forEach((word, i) => {
    if (i > 0) note.append(', ');
    note.append(`“${word}”`);
    const near = suggestWord(word, engine.info.vocab);
    if (!near) return;
    const fix = document.createElement('button');
    fix.type = 'button';
    fix.className = 'fix';
    fix.textContent = near;
    fix.title = `replace “${word}” with “${near}”`;
    fix.addEventListener('click', () => replaceWord(field, word, near));
    note.append(' (did you mean ', fix, '?)');
  });
  if (unknown.length) note.append(` and will ignore ${unknown.length > 1 ? 'them' : 'it'}.`);
  field.setAttribute('aria-invalid', String(unknown.length > 0));
}

// Replaces the first whole-word occurrence of word (as the tokenizer splits words, any case) in a text field.
function replaceWord(field, word, replacement) {
  const match = new RegExp(`(^|[^a-z0-9'])${word}(?![a-z0-9'])`, 'i').exec(field.value);
  if (!match) return;
  const start = match.index + match[1].length;
  field.value = field.value.slice(0, start) + replacement + field.value.slice(start + word.length);
  field.dispatchEvent(new Event('input', { bubbles: true }));
  field.focus();
}

// ---- generation

// The form's settings: with a storyboard, its shots (the first one's prompt as the clip's prompt,
// the frames their sum). Throws an Error whose `field` is the input to fix.
function readSettings() {
  const shots = storyboard.read();
  const settings = form.read({ storyboard: shots.length > 0 });
  if (shots.length) {
    Object.assign(settings, { prompt: shots[0].prompt, shots, frames: shots.reduce((n, shot) => n + shot.frames, 0) });
  }
  return settings;
}

function writeSettings(settings) {
  form.write(settings);
  storyboard.write(settings.shots);
}

// generate()'s options for the settings: a storyboard's shots carry its prompts and frames.
function requestOf({ prompt, shots, negativePrompt, seed, steps, guidance, renoise, frames, seamless, image }) {
  const common = { negativePrompt, seed, steps, guidance, renoise, seamless, image };
  return shots ? { shots, ...common } : { prompt, frames, ...common };
}

// The input a checkRequest error is about: a shot's ("shots[2].prompt") or a setting's.
function fieldOf(error) {
  if (typeof error.field !== 'string') return error.field;
  if (error.field === 'image') return $('image-file');
  const shot = /^shots\[(\d+)\]\.(prompt|frames)/.exec(error.message);
  return shot ? storyboard.element(Number(shot[1]), shot[2]) : form.element(error.field);
}

async function runGeneration() {
  if (running || !engine) return;
  form.nextSeed();
  let settings;
  try {
    settings = readSettings();
    if (startImage.image) Object.assign(settings, { image: startImage.image, imageLabel: startImage.label });
    // kineto.js's own checks (a NUL or too many known words, e.g. from a share link), named by field
    checkRequest(requestOf(settings), engine.info, engine.info.vocab);
  } catch (error) {
    say(error.message, 'error');
    fieldOf(error)?.focus();
    return;
  }
  running = new AbortController();
  setBusy(true);
  if (narrowScreen.matches) $('screen').scrollIntoView({ block: 'nearest' });   // previews in sight
  progress.start(settings.steps);
  say(`Generating “${settings.prompt}”${settings.shots ? ` and ${settings.shots.length - 1} more shots` : ''}…`);
  let final = 0;   // frames final so far: once some are, they play instead of previews
  try {
    const result = await generate({
      ...requestOf(settings),
      signal: running.signal,
      onProgress: ({ step, total }) => progress.update(step, total),
      onPreview: (preview) => { if (!final) showPreview(preview); },
      onFrames: (ready) => { final = showReady(ready, settings.fps); },
    });
    const clip = toClip(result, settings.fps);
    progress.finish(`Done: ${clip.frames.length} frames`);
    showClip(clip, settings);
    clips.add(clip, settings);
    const ignored = result.unknownWords?.length ? ` Ignored: ${result.unknownWords.join(', ')}.` : '';
    const from = settings.image ? ` from ${settings.imageLabel}` : '';
    say(`Made “${settings.prompt}” with seed ${settings.seed}${from}.${ignored}`);
    setState('done');
  } catch (error) {
    if (error.name === 'AbortError') {
      progress.finish(`Cancelled at step ${progress.done} of ${progress.total}`);
      say('Cancelled.');
      setState('cancelled');
    } else {
      progress.finish('Failed');
      // A dead worker is replaced by the next generate(): say so, so the user knows a retry can work.
      say(error.workerStopped ? `The engine stopped (${error.message}). Press Generate to try again with a fresh engine.`
        : error.field === 'image' ? `${settings.imageLabel} cannot start a clip: ${error.message}.`
          : error.message || String(error), 'error');
      setState('error');
    }
  } finally {
    running = null;
    setBusy(false);
    document.body.dataset.runs = ++runsEnded;   // generations ended so far, whatever the outcome
  }
}

function setBusy(busy) {
  if (busy) setState('running');
  $('generate').disabled = busy;
  $('cancel').disabled = !busy;
  $('preview-badge').hidden = true;
  if (busy) $('continue-frame').disabled = true;   // until a finished clip is in the player again
}

// The engine's frames: one RGBA array per frame (a single packed array is split).
function toClip({ width, height, frames }, fps) {
  const frameBytes = width * height * 4;
  const list = Array.isArray(frames) ? frames
    : Array.from({ length: frames.length / frameBytes }, (_, i) => frames.subarray(i * frameBytes, (i + 1) * frameBytes));
  return { width, height, fps, frames: list };
}

// Previews play while the player plays; paused, the shown frame updates in place.
function showPreview(preview) {
  const first = $('preview-badge').hidden;
  $('preview-badge').hidden = false;
  player.load(toClip(preview, Number($('fps').value) || 8), { autoplay: first || player.playing });
  $('preview-badge').textContent = `Preview after step ${preview.step} of ${preview.total ?? progress.total}`;
}

// A long clip's final frames play while later windows are made; returns the frames shown.
function showReady({ first, count, width, height, frames }, fps) {
  if (first === 0) {
    player.fps = fps;
    player.load({ width, height, frames }, { autoplay: true });
  } else {
    player.append(frames);
  }
  const ready = first + frames.length;
  $('preview-badge').hidden = ready === count;
  $('preview-badge').textContent = `Frames 1–${ready} of ${count} are ready and play while the rest is made`;
  return ready;
}

function showClip(clip, settings) {
  current = { clip, settings };
  player.fps = settings.fps;
  player.load(clip);
  const link = shareUrl(settings);
  $('share-url').value = link;
  history.replaceState(null, '', settingsToHash(settings));
  for (const id of ['export-gif', 'export-webm', 'export-zip', 'copy-link', 'continue-frame']) $(id).disabled = false;
  $('share-image-note').hidden = !settings.image;
}

// The frame the player shows starts a new clip; the prompt and settings stay, so the clip goes on.
function continueFromFrame() {
  if (running || !current || !player.frameCount) return;
  const shown = player.images[player.index];
  const label = `frame ${player.index + 1} of “${current.settings.prompt}”`;
  startImage.setPixels(new ImageData(new Uint8ClampedArray(shown.data), shown.width, shown.height), label);
  runGeneration();
}

function replay({ clip, settings }) {
  if (running) return;
  writeSettings(settings);
  showClip(clip, settings);
  say(`Replaying “${settings.prompt}” (seed ${settings.seed}).`);
}

// ---- export and share

async function exportClip(kind) {
  if (!current) return;
  const { clip, settings } = current;
  const scale = Number($('export-scale').value);
  const name = `kineto-${settings.prompt.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}-${settings.seed}`;
  const button = $(`export-${kind}`);
  button.disabled = true;
  say(`Exporting ${kind.toUpperCase()}…`);
  try {
    const exportClip = { ...clip, fps: Number($('fps').value) || clip.fps };
    if (kind === 'gif') download(await exportGif(exportClip, scale), `${name}.gif`);
    if (kind === 'zip') download(await exportPngZip(exportClip, scale, name), `${name}-png.zip`);
    if (kind === 'webm') {
      const { blob, method } = await exportWebm(exportClip, scale, { forceRecorder: page.has('recorder') });
      download(blob, `${name}.webm`);
      say(`WebM saved (${method === 'webcodecs' ? 'WebCodecs' : 'MediaRecorder'}).`);
      return;
    }
    say(`${kind.toUpperCase()} saved.`);
  } catch (error) {
    say(`Export failed: ${error.message}`, 'error');
  } finally {
    button.disabled = false;
  }
}

function wireForm() {
  $('prompt-form').addEventListener('submit', (e) => { e.preventDefault(); runGeneration(); });
  $('cancel').addEventListener('click', () => running?.abort());
  $('continue-frame').addEventListener('click', continueFromFrame);
  $('prompt').addEventListener('input', flagUnknownWords);
  $('shots').addEventListener('input', flagUnknownWords);
  $('shots').addEventListener('focusin', flagUnknownWords);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runGeneration(); }
    if (e.key === 'Escape' && running) running.abort();
  });
  for (const kind of ['gif', 'webm', 'zip']) $(`export-${kind}`).addEventListener('click', () => exportClip(kind));
  $('copy-link').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText($('share-url').value);
      say('Link copied.');
    } catch {
      $('share-url').select();
      say('Select the link and copy it (Ctrl+C).');
    }
  });
  $('model-file').addEventListener('change', (e) => {
    const [file] = e.target.files;
    if (file) useModelFile(file).catch((error) => fail(`Kineto could not start: ${error.message}`));
  });
  window.addEventListener('hashchange', () => {
    const linked = hashToSettings(location.hash);
    if (linked && engine && !running && settingsToHash(linked) !== settingsToHash(current?.settings ?? {})) {
      writeSettings(linked);
      runGeneration();
    }
  });
}

wireForm();
$('version').textContent = VERSION;
if (narrowScreen.matches) $('vocab').open = false;   // on a phone the word list starts folded
const offline = page.has('nosw') || INLINE ? Promise.resolve(null) : registerOffline();
startEngine().catch((error) => fail(`Kineto could not start: ${error.message}`));

function fail(message) {
  setState('error');
  $('mode').textContent = 'unavailable';
  say(message, 'error');
}
