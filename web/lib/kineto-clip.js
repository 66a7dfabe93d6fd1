// kineto-clip.js — <kineto-clip prompt="a red ball moving left" seed="7" steps="16" guidance="1.5"
// autoplay loop controls>: generates a clip with kineto.js and plays it with player.js. Importing
// this module registers the element; every element of a page shares the one worker, so they queue.
// Attribute values only ever reach the page as text (textContent), never as HTML.
// Long clips: prompt="a red ball moving left | a red ball going up" is a storyboard, one shot per
// `|`-separated prompt, frames="64" split evenly over them; `seamless` makes a loop. A long clip's
// first windows play as soon as they are final, while the rest is made.
// image="drawing.png": the clip starts from that PNG or JPEG, fetched from the page's own origin
// only (as weights are), so markup cannot make Kineto reach another site.

import { generate, init, suggestWord } from './kineto.js';
import { Player } from './player.js';

const STYLE = `
:host { display: inline-block; font: 13px/1.4 system-ui, sans-serif; color: #333; }
:host([hidden]) { display: none; }
figure { margin: 0; display: grid; gap: 4px; }
canvas { width: var(--kineto-clip-size, 256px); aspect-ratio: 1; background: #111; border-radius: 4px; }
.bar { display: flex; align-items: center; gap: 6px; min-height: 24px; }
button { font: inherit; min-width: 28px; cursor: pointer; }
button[hidden] { display: none; }
.status { color: #666; }
.status.error { color: #b00020; }
`;
let sheet = null;   // one constructed stylesheet for every element (allowed under style-src 'self')

// Attribute -> generate() option. Empty or absent attributes take the model's defaults.
const NUMBER_ATTRIBUTES = {
  seed: 'seed', steps: 'steps', guidance: 'guidance', renoise: 'renoise', frames: 'frames',
};

export class KinetoClip extends HTMLElement {
  static get observedAttributes() {
    return ['prompt', 'negative-prompt', ...Object.keys(NUMBER_ATTRIBUTES), 'seamless', 'image', 'controls', 'loop'];
  }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    sheet ??= makeSheet();
    root.adoptedStyleSheets = [sheet];
    const figure = document.createElement('figure');
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('part', 'canvas');
    this.canvas.setAttribute('role', 'img');
    const bar = document.createElement('div');
    bar.className = 'bar';
    this.button = document.createElement('button');
    this.button.type = 'button';
    this.button.setAttribute('part', 'button');
    this.button.addEventListener('click', () => this.player.toggle());
    this.statusLine = document.createElement('span');
    this.statusLine.className = 'status';
    this.statusLine.setAttribute('part', 'status');
    this.statusLine.setAttribute('aria-live', 'polite');
    bar.append(this.button, this.statusLine);
    figure.append(this.canvas, bar);
    root.append(figure);
    this.player = new Player(this.canvas, { onFrame: () => this.updateButton() });
    this.controller = null;    // aborts the generation in flight
    this.scheduled = false;
    this.updateButton();
  }

  connectedCallback() { this.scheduleGenerate(); }

  disconnectedCallback() {
    this.controller?.abort();
    this.controller = null;
    this.pause();
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue === newValue) return;
    if (name === 'controls') this.updateButton();
    else if (name === 'loop') this.updateLoop();
    else this.scheduleGenerate();
  }

  // The clip, or the latest preview: one RGBA Uint8ClampedArray per frame.
  get frames() { return this.player.images.map((image) => image.data); }
  get playing() { return this.player.playing; }
  play() { this.player.play(); }
  pause() { this.player.pause(); }

  // Previews always loop; a finished clip loops only with the loop attribute.
  updateLoop() { this.player.loop = this.hasAttribute('loop') || this.controller !== null; }

  // Several attributes set in one task make one generation.
  scheduleGenerate() {
    if (this.scheduled || !this.isConnected) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.isConnected) this.regenerate();
    });
  }

  request() {
    const prompt = this.getAttribute('prompt') ?? '';
    const shots = prompt.split('|');
    // one prompt stays as written; shots lose the spaces around their `|`
    const request = { prompt: shots.length > 1 ? shots.map((shot) => shot.trim()) : prompt };
    if (this.hasAttribute('seamless')) request.seamless = true;
    const negative = this.getAttribute('negative-prompt');
    if (negative) request.negativePrompt = negative;
    for (const [attribute, option] of Object.entries(NUMBER_ATTRIBUTES)) {
      const text = this.getAttribute(attribute);
      // the seed stays text, read by generate() as the CLI reads --seed (up to 2^64-1, exactly)
      if (text !== null && text.trim() !== '') request[option] = option === 'seed' ? text.trim() : Number(text);
    }
    return request;
  }

  async regenerate() {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.updateLoop();
    const request = this.request();
    this.canvas.setAttribute('aria-label', [request.prompt].flat().join(', then '));
    this.setStatus('loading the model…');
    try {
      const { info } = await init();
      if (controller.signal.aborted) return;
      const imageUrl = this.getAttribute('image');
      if (imageUrl) request.image = await fetchImage(imageUrl, controller.signal);
      this.player.resize(info.width, info.height);
      this.player.fps = info.fps;
      this.setStatus('waiting for the engine…');
      let final = 0;   // frames known final: once some are, they play instead of previews
      const clip = await generate({
        ...request,
        signal: controller.signal,
        onProgress: ({ step, total }) => this.setStatus(`step ${step} of ${total}`),
        onPreview: ({ width, height, frames }) => { if (!final) this.show({ width, height, frames }); },
        onFrames: ({ first, width, height, frames }) => {
          if (first === 0) this.show({ width, height, frames });
          else this.player.append(frames);
          final = first + frames.length;
        },
      });
      if (controller.signal.aborted) return;   // a newer generation replaced this one
      this.controller = null;
      this.updateLoop();
      this.show(clip);
      const named = clip.unknownWords.map((w) => {
        const near = suggestWord(w, info.vocab);
        return near ? `${w} (${near}?)` : w;
      });
      this.setStatus(named.length ? `ignored unknown words: ${named.join(', ')}` : '');
      this.dispatchEvent(new CustomEvent('kineto-ready', { detail: clip }));
    } catch (error) {
      if (error.name === 'AbortError' || controller.signal.aborted) return;
      this.setStatus(error.message, true);
      this.dispatchEvent(new CustomEvent('kineto-error', { detail: error }));
    } finally {
      if (this.controller === controller) {
        this.controller = null;
        this.updateLoop();
      }
    }
  }

  // clip: {width, height, frames}; a preview keeps the playing position, autoplay starts playback.
  show(clip) {
    this.player.load(clip, { autoplay: this.hasAttribute('autoplay') });
  }

  updateButton() {
    const { playing } = this.player;
    this.button.hidden = !this.hasAttribute('controls');
    this.button.textContent = playing ? '❚❚' : '▶';
    this.button.setAttribute('aria-label', playing ? 'pause' : 'play');
  }

  setStatus(text, isError = false) {
    this.statusLine.textContent = text;
    this.statusLine.classList.toggle('error', isError);
  }
}

// The image attribute's file as a Blob, which generate() decodes as the CLI decodes --image.
async function fetchImage(src, signal) {
  const { href: url, origin } = new URL(src, document.baseURI);
  if (origin !== location.origin) throw imageError(`must be on this page's origin ${location.origin}, not ${origin}`);
  let response;
  try {
    response = await fetch(url, { signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw imageError(`could not be fetched from ${url}: ${error.message}`);
  }
  if (!response.ok) throw imageError(`could not be fetched from ${url}: HTTP ${response.status}`);
  return response.blob();
}

function imageError(message) {
  const error = new Error(`image ${message}`);
  error.field = 'image';
  return error;
}

function makeSheet() {
  const s = new CSSStyleSheet();
  s.replaceSync(STYLE);
  return s;
}

if (!customElements.get('kineto-clip')) customElements.define('kineto-clip', KinetoClip);
