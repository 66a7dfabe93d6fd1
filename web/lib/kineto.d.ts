// Types of kineto.js, Kineto's embedding API (the npm package's "." export).

/** The package's version, as package.json and `kineto --version` give it. */
export const VERSION: string;

/** The default model's URL: wasm/kineto-world.kin beside kineto.js. */
export const DEFAULT_WEIGHTS_URL: string;

/** The most frames a clip may have, all shots together (KINETO_MAX_FRAMES). */
export const MAX_FRAMES: 256;
/** The most shots a storyboard may have (KINETO_MAX_SHOTS). */
export const MAX_SHOTS: 64;
/** The most pixels a start image may have on each side (KINETO_MAX_IMAGE_SIDE). */
export const MAX_IMAGE_SIDE: 8192;

/** The WebAssembly build init() may ask for; 'auto' picks the best this page allows. */
export type EngineMode = 'auto' | 'simd-mt' | 'simd' | 'base';

export interface InitOptions {
  /** The model to fetch, on this page's origin (or kineto.js's); default DEFAULT_WEIGHTS_URL. */
  weightsUrl?: string | URL;
  /** A model already in memory (a .kin file's bytes); replaces weightsUrl. */
  weights?: ArrayBuffer;
  /** Default 'auto': 'simd-mt' on a cross-origin isolated page, else 'simd', else 'base'. */
  mode?: EngineMode;
  /** Threads of the 'simd-mt' build, 1 to 4; default the core count, at most 4. */
  threads?: number;
  /** The engine's worker module; default worker.js beside kineto.js. */
  workerUrl?: string | URL;
}

/** What the loaded model makes and accepts. */
export interface ModelInfo {
  /**
   * Frames the model makes at once (its window) and a clip's default length. Longer clips, up to
   * MAX_FRAMES, are made window by window.
   */
  frames: number;
  width: number;
  height: number;
  fps: number;
  /** The words the model knows, in the model's order. */
  vocab: string[];
  defaultSteps: number;
  defaultGuidance: number;
  defaultRenoise: number;
  /** The most known words a prompt may hold. */
  maxTokens: number;
  /** The weights hold the VAE encoder, so a clip can start from an image (GenerateOptions.image). */
  hasEncoder: boolean;
}

export interface Ready {
  /**
   * The build that runs and its threads: 'simd+threads (N)', 'simd' or 'base'. Without
   * cross-origin isolation (COOP/COEP) it is 'simd' or 'base': one thread.
   */
  mode: string;
  info: ModelInfo;
}

/**
 * Loads the engine and the model once, in one worker shared by the page. Calling it again with the
 * same options (or none) reuses that worker; other options restart it.
 * Rejects with a TypeError whose field is 'weightsUrl' for a URL on another origin, or an Error
 * saying why the worker, the engine or the model could not start.
 */
export function init(options?: InitOptions): Promise<Ready>;

export interface Progress {
  /** Denoising steps done, 1 to total. */
  step: number;
  /** Steps of the whole clip: every window's steps (a long clip has several windows). */
  total: number;
}

/** Frames that became final: later steps leave them as they are, so they can be shown and played. */
export interface ReadyFrames {
  /** The index of frames[0] in the clip; calls come in order and together cover every frame. */
  first: number;
  /** The clip's frames, all shots together. */
  count: number;
  width: number;
  height: number;
  /** One RGBA image of width * height * 4 bytes per frame: the clip's own bytes for these frames. */
  frames: Uint8ClampedArray[];
}

/** One shot of a storyboard: its prompt over its frames. */
export interface Shot {
  prompt: string;
  /** An integer from 1 to 256; default info.frames. */
  frames?: number;
}

export interface Preview {
  step: number;
  width: number;
  height: number;
  /** One RGBA image of width * height * 4 bytes per frame: the clip as it stands at this step. */
  frames: Uint8ClampedArray[];
}

/** A clip of one prompt; StoryboardOptions for several shots. */
export interface GenerateOptions {
  /** Words from the model's vocabulary; unknown words are ignored and listed. At most 4096 bytes of UTF-8. */
  prompt: string;
  /** What to steer away from; default ''. */
  negativePrompt?: string;
  /**
   * A whole number from 0 to 2^64-1: a safe-integer number, a bigint, or a string of decimal digits
   * only (as the CLI reads --seed: "010" is ten). Default a random one (the clip's seed says which).
   */
  seed?: number | bigint | string;
  /** Denoising steps, an integer from 1 to 200; default info.defaultSteps. */
  steps?: number;
  /** Classifier-free guidance, 0 to 30; default info.defaultGuidance. */
  guidance?: number;
  /** The share of each step's noise estimate replaced by fresh noise, 0 to 1; default info.defaultRenoise. */
  renoise?: number;
  /**
   * Frames to make, an integer from 1 to 256; default info.frames (one window). Past info.frames the
   * clip is made window by window, each window `steps` steps. With shots, it must be their sum.
   */
  frames?: number;
  /** A loop: the last frame leads into the first (one more window of steps). Needs 2 frames or more. */
  seamless?: boolean;
  /**
   * The clip's first frame; the rest move on from it. Needs 2 frames or more and weights with the
   * VAE encoder (info.hasEncoder). An ImageData or ImageBitmap gives its pixels (neither is changed
   * or closed); a Blob or File must hold a PNG or JPEG, decoded by the engine's decoder, so the
   * same file gives the CLI's `kineto generate --image` bytes. At most 8192 pixels a side. The
   * engine composites it over black and scales it to the encoder's input. Default none.
   */
  image?: ImageData | ImageBitmap | Blob | null;
  /** After every denoising step. */
  onProgress?: (progress: Progress) => void;
  /**
   * After every denoising step, with the clip so far (asking for previews costs a decode per step);
   * in a long clip, frames whose window has not started yet are flat.
   */
  onPreview?: (preview: Preview) => void;
  /**
   * When frames become final (after each window of a long clip; all of them at the end of a
   * one-window clip), so they can play while later windows are made. Costs no extra decode.
   */
  onFrames?: (ready: ReadyFrames) => void;
  /** Aborting it rejects generate() with an AbortError; the engine stops within one step. */
  signal?: AbortSignal;
}

/**
 * A storyboard: shots one after another (at most 64), each conditioned on its own prompt, the other
 * options as GenerateOptions'. Give `prompt` (an array, one shot per prompt in order: `frames` split
 * evenly over them as the CLI splits --frames over repeated --prompt, the first shots a frame longer;
 * without `frames`, each shot info.frames long) or `shots` (each with its own length; `frames`, if
 * given, must be their sum), not both.
 */
export type StoryboardOptions = Omit<GenerateOptions, 'prompt'> &
  ({ prompt: string[]; shots?: never } | { shots: Shot[]; prompt?: never });

/** A generated clip. */
export interface Clip {
  width: number;
  height: number;
  fps: number;
  /** One RGBA image of width * height * 4 bytes per frame. */
  frames: Uint8ClampedArray[];
  /**
   * The seed used: the same prompt, seed and settings give the same frames everywhere. A number, or
   * its decimal string past Number.MAX_SAFE_INTEGER.
   */
  seed: number | string;
  /** The prompt's words the model ignored, in order. */
  unknownWords: string[];
}

/** The field a bad request names. */
export type RequestField = 'prompt' | 'shots' | 'negativePrompt' | 'seed' | 'steps' | 'guidance' | 'renoise' | 'frames'
  | 'seamless' | 'image';

/**
 * A TypeError or RangeError for bad input: its message names the field and what it accepts (a shot
 * by its index: "prompt[2] has no words", "shots[1].frames must be an integer from 1 to 256").
 */
export interface FieldError extends Error {
  name: 'TypeError' | 'RangeError';
  field: RequestField | 'weightsUrl';
}

/**
 * What the engine refused: status is the engine's status text, message says what was wrong; field
 * is 'image' for an image file the decoder refused ("image is not a PNG or JPEG file", "image is a
 * truncated PNG ...", "image is a PNG of 20000x20000 pixels: each side must be 1..8192").
 */
export interface EngineError extends Error {
  status: string;
  field?: 'image';
}

/** The worker is gone (it crashed or init() restarted it); the next call starts a new one. */
export interface WorkerStoppedError extends Error {
  workerStopped: true;
}

/**
 * Generates a clip; calls queue, one at a time. Rejects with a FieldError for bad input, a
 * DOMException named 'AbortError' when the signal aborts, an EngineError, or a WorkerStoppedError.
 */
export function generate(options: GenerateOptions | StoryboardOptions): Promise<Clip>;

/** A request checked against the model, its defaults filled in. */
export interface CheckedRequest {
  /** The first shot's prompt. */
  prompt: string;
  /** Every shot with its frames, for a storyboard (absent for a single prompt). */
  shots?: Required<Shot>[];
  seamless: boolean;
  negativePrompt: string;
  seed: number | string;
  steps: number;
  guidance: number;
  renoise: number;
  frames: number;
  unknownWords: string[];
  /** The start image as given, and what it is. */
  image?: ImageData | ImageBitmap | Blob;
  imageKind?: 'pixels' | 'bitmap' | 'file';
}

/** The checks generate() runs before the engine sees a request; throws a FieldError. */
export function checkRequest(
  request: GenerateOptions | StoryboardOptions,
  info: Pick<ModelInfo, 'frames' | 'maxTokens' | 'defaultSteps' | 'defaultGuidance' | 'defaultRenoise'>
    & Partial<Pick<ModelInfo, 'hasEncoder'>>,
  vocab: Iterable<string>,
): CheckedRequest;

/** The words the engine reads in text: ASCII letters lower-cased, runs of a-z 0-9 '. */
export function splitWords(text: string): string[];

/** The words of text the model does not know, in order (info.vocab, or a Set of it). */
export function unknownWords(text: string, vocab: Iterable<string>): string[];

/** The known word an unknown one probably meant ('bounces' -> 'bouncing'), or null. */
export function suggestWord(word: string, vocab: Iterable<string>): string | null;
