// Types of kineto-clip.js (the npm package's "./clip" export): importing it registers <kineto-clip>.
//
//   <kineto-clip prompt="a red ball moving left on black" seed="7" steps="16" autoplay loop controls>
//
// Generation attributes, named as generate()'s options (empty or absent: the model's defaults):
// prompt, negative-prompt, seed, steps, guidance, renoise, frames. Playback attributes: autoplay,
// loop, controls (a play/pause button).

import type { Clip } from './kineto.js';

/** The element's attributes, for typed templates. */
export interface KinetoClipAttributes {
  prompt?: string;
  'negative-prompt'?: string;
  seed?: string | number;
  steps?: string | number;
  guidance?: string | number;
  renoise?: string | number;
  frames?: string | number;
  autoplay?: boolean | '';
  loop?: boolean | '';
  controls?: boolean | '';
}

export interface KinetoClipEventMap extends HTMLElementEventMap {
  /** The clip is generated; detail is the clip. */
  'kineto-ready': CustomEvent<Clip>;
  /** The generation failed; detail is the error (see generate()'s errors). */
  'kineto-error': CustomEvent<Error>;
}

export class KinetoClip extends HTMLElement {
  static readonly observedAttributes: string[];
  /** The clip, or the latest preview while it generates: one RGBA image per frame. */
  readonly frames: Uint8ClampedArray[];
  readonly playing: boolean;
  play(): void;
  pause(): void;
  addEventListener<K extends keyof KinetoClipEventMap>(type: K,
    listener: (this: KinetoClip, event: KinetoClipEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof KinetoClipEventMap>(type: K,
    listener: (this: KinetoClip, event: KinetoClipEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'kineto-clip': KinetoClip;
  }
}
