// kineto-clip.js — <kineto-clip prompt="a red ball moving left" seed="7" steps="16" guidance="1.5"
// autoplay loop controls>: generates a clip with kineto.js and plays it. Importing this module
// registers the element; every element of a page shares the one worker, so they queue.
// Attribute values only ever reach the page as text (textContent), never as HTML.

import { generate, init, suggestWord } from './kineto.js';

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
    return ['prompt', 'negative-prompt', ...Object.keys(NUMBER_ATTRIBUTES), 'controls'];
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
    this.button.addEventListener('click', () => (this.playing ? this.pause() : this.play()));
    this.statusLine = document.createElement('span');
    this.statusLine.className = 'status';
    this.statusLine.setAttribute('part', 'status');
    this.statusLine.setAttribute('aria-live', 'polite');
    bar.append(this.button, this.statusLine);
    figure.append(this.canvas, bar);
    root.append(figure);
    this.frames = [];          // RGBA Uint8ClampedArray per frame: the clip, or the latest preview
    this.fps = 8;
    this.frameIndex = 0;
    this.playing = false;
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
    else this.scheduleGenerate();
  }

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
    const request = { prompt: this.getAttribute('prompt') ?? '' };
    const negative = this.getAttribute('negative-prompt');
    if (negative) request.negativePrompt = negative;
    for (const [attribute, option] of Object.entries(NUMBER_ATTRIBUTES)) {
      const text = this.getAttribute(attribute);
      if (text !== null && text.trim() !== '') request[option] = Number(text);
    }
    return request;
  }

  async regenerate() {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const request = this.request();
    this.canvas.setAttribute('aria-label', request.prompt);
    this.setStatus('loading the model…');
    try {
      const { info } = await init();
      if (controller.signal.aborted) return;
      this.resize(info.width, info.height);
      this.fps = info.fps;
      this.setStatus('waiting for the engine…');
      const clip = await generate({
        ...request,
        signal: controller.signal,
        onProgress: ({ step, total }) => this.setStatus(`step ${step} of ${total}`),
        onPreview: ({ frames }) => this.show(frames),
      });
      this.show(clip.frames);
      const named = clip.unknownWords.map((w) => {
        const near = suggestWord(w, info.vocab);
        return near ? `${w} (${near}?)` : w;
      });
      this.setStatus(named.length ? `ignored unknown words: ${named.join(', ')}` : '');
      this.dispatchEvent(new CustomEvent('kineto-ready', { detail: clip }));
      if (this.hasAttribute('autoplay')) this.play();
    } catch (error) {
      if (error.name === 'AbortError' || controller.signal.aborted) return;
      this.setStatus(error.message, true);
      this.dispatchEvent(new CustomEvent('kineto-error', { detail: error }));
    } finally {
      if (this.controller === controller) this.controller = null;
    }
  }

  resize(width, height) {
    this.canvas.width = width;
    this.canvas.height = height;
    this.context = this.canvas.getContext('2d');
  }

  show(frames) {
    this.frames = frames;
    this.frameIndex = Math.min(this.frameIndex, frames.length - 1);
    this.draw();
    if (this.hasAttribute('autoplay') && !this.playing) this.play();
  }

  draw() {
    const frame = this.frames[this.frameIndex];
    if (!frame || !this.context) return;
    this.context.putImageData(new ImageData(frame, this.canvas.width, this.canvas.height), 0, 0);
  }

  play() {
    if (this.playing || this.frames.length === 0) return;
    if (this.frameIndex === this.frames.length - 1) this.frameIndex = 0;
    this.playing = true;
    this.updateButton();
    let last = performance.now();
    const tick = (now) => {
      if (!this.playing) return;
      const frameTime = 1000 / this.fps;
      if (now - last >= frameTime) {
        last = now - ((now - last) % frameTime);
        if (this.frameIndex + 1 < this.frames.length) this.frameIndex++;
        else if (this.hasAttribute('loop') || this.controller) this.frameIndex = 0;   // previews always loop
        else return this.pause();
        this.draw();
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  pause() {
    this.playing = false;
    this.updateButton();
  }

  updateButton() {
    this.button.hidden = !this.hasAttribute('controls');
    this.button.textContent = this.playing ? '❚❚' : '▶';
    this.button.setAttribute('aria-label', this.playing ? 'pause' : 'play');
  }

  setStatus(text, isError = false) {
    this.statusLine.textContent = text;
    this.statusLine.classList.toggle('error', isError);
  }
}

function makeSheet() {
  const s = new CSSStyleSheet();
  s.replaceSync(STYLE);
  return s;
}

if (!customElements.get('kineto-clip')) customElements.define('kineto-clip', KinetoClip);
