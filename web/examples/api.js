// api.js — the Kineto API without the element: init, generate with progress, previews and cancel.
import { init, generate, unknownWords } from '../lib/kineto.js';

const $ = (id) => document.getElementById(id);
const canvas = $('canvas');
let model = null;
let running = null;     // AbortController of the generation in flight
let playTimer = 0;

function say(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

function showFrames(frames, fps) {
  clearInterval(playTimer);
  const context = canvas.getContext('2d');
  let index = 0;
  const draw = () => {
    context.putImageData(new ImageData(frames[index], canvas.width, canvas.height), 0, 0);
    index = (index + 1) % frames.length;
  };
  draw();
  playTimer = setInterval(draw, 1000 / fps);
}

function flagUnknown() {
  if (!model) return;
  const unknown = unknownWords($('prompt').value, model.info.vocab);
  $('unknown').textContent = unknown.length ? `Not in the vocabulary (ignored): ${unknown.join(', ')}` : '';
}

// Empty number fields mean "the model's default".
function numberField(id) {
  const text = $(id).value.trim();
  return text === '' ? undefined : Number(text);
}

async function onSubmit(event) {
  event.preventDefault();
  running?.abort();
  running = new AbortController();
  $('cancel').disabled = false;
  $('progress').value = 0;
  say('Waiting for the engine…');
  try {
    const clip = await generate({
      prompt: $('prompt').value, seed: numberField('seed'), steps: numberField('steps'),
      guidance: numberField('guidance'), renoise: numberField('renoise'), signal: running.signal,
      onProgress: ({ step, total }) => {
        $('progress').max = total;
        $('progress').value = step;
        say(`Step ${step} of ${total}`);
      },
      onPreview: ({ frames }) => showFrames(frames, model.info.fps),
    });
    showFrames(clip.frames, clip.fps);
    say(`Done: ${clip.frames.length} frames, seed ${clip.seed}.`);
  } catch (error) {
    say(error.name === 'AbortError' ? 'Cancelled.' : error.message, error.name !== 'AbortError');
  } finally {
    $('cancel').disabled = true;
  }
}

async function start() {
  try {
    model = await init();
  } catch (error) {
    $('mode').textContent = 'unavailable';
    say(error.message, true);
    return;
  }
  $('mode').textContent = model.mode;
  canvas.width = model.info.width;
  canvas.height = model.info.height;
  $('steps').placeholder = String(model.info.defaultSteps);
  $('guidance').placeholder = String(model.info.defaultGuidance);
  $('renoise').placeholder = String(model.info.defaultRenoise);
  $('generate').disabled = false;
  flagUnknown();
}

$('form').addEventListener('submit', onSubmit);
$('cancel').addEventListener('click', () => running?.abort());
$('prompt').addEventListener('input', flagUnknown);
start();
