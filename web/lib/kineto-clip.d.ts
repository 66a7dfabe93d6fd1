// Types of kineto-clip.js (the npm package's "./clip" export): importing it registers <kineto-clip>.
//
//   <kineto-clip prompt="a red ball moving left on black" seed="7" steps="16" autoplay loop controls>
//
// Generation attributes, named as generate()'s options (empty or absent: the model's defaults):
// prompt, negative-prompt, seed, steps, guidance, renoise, frames (1 to 256), seamless (a loop).
// A prompt with `|` is a storyboard: one shot per part, in order, frames split evenly over them
// ("a red ball moving left | a red ball going up"). Playback attributes: autoplay, loop, controls
// (a play/pause button). A long clip's first windows play as soon as they are final.
// image: the URL of a PNG or JPEG on the page's own origin that starts the clip.

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
  seamless?: boolean | '';
  /** A PNG or JPEG's URL on the page's origin: the clip's first frame (the model needs its VAE encoder). */
  image?: string;
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
  /**
   * The clip, or while it generates the frames final so far (else the latest preview): one RGBA
   * image per frame.
   */
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
