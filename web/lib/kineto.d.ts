// Types of kineto.js, Kineto's embedding API (the npm package's "." export).

/** The package's version, as package.json and `kineto --version` give it. */
export const VERSION: string;

/** The default model's URL: wasm/kineto-world.kin beside kineto.js. */
export const DEFAULT_WEIGHTS_URL: string;

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
  /** Frames of a full clip (the most generate() accepts). */
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
  total: number;
}

export interface Preview {
  step: number;
  width: number;
  height: number;
  /** One RGBA image of width * height * 4 bytes per frame: the clip as it stands at this step. */
  frames: Uint8ClampedArray[];
}

export interface GenerateOptions {
  /** Words from the model's vocabulary; unknown words are ignored and listed. At most 1000 characters. */
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
  /** Frames to make, an integer from 1 to info.frames; default info.frames. */
  frames?: number;
  /** After every denoising step. */
  onProgress?: (progress: Progress) => void;
  /** After every denoising step, with the clip so far (asking for previews costs a decode per step). */
  onPreview?: (preview: Preview) => void;
  /** Aborting it rejects generate() with an AbortError; the engine stops within one step. */
  signal?: AbortSignal;
}

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
export type RequestField = 'prompt' | 'negativePrompt' | 'seed' | 'steps' | 'guidance' | 'renoise' | 'frames';

/** A TypeError or RangeError for bad input: its message names the field and what it accepts. */
export interface FieldError extends Error {
  name: 'TypeError' | 'RangeError';
  field: RequestField | 'weightsUrl';
}

/** What the engine refused: status is the engine's status text, message says what was wrong. */
export interface EngineError extends Error {
  status: string;
}

/** The worker is gone (it crashed or init() restarted it); the next call starts a new one. */
export interface WorkerStoppedError extends Error {
  workerStopped: true;
}

/**
 * Generates a clip; calls queue, one at a time. Rejects with a FieldError for bad input, a
 * DOMException named 'AbortError' when the signal aborts, an EngineError, or a WorkerStoppedError.
 */
export function generate(options: GenerateOptions): Promise<Clip>;

/** A request checked against the model, its defaults filled in. */
export interface CheckedRequest {
  prompt: string;
  negativePrompt: string;
  seed: number | string;
  steps: number;
  guidance: number;
  renoise: number;
  frames: number;
  unknownWords: string[];
}

/** The checks generate() runs before the engine sees a request; throws a FieldError. */
export function checkRequest(
  request: GenerateOptions,
  info: Pick<ModelInfo, 'frames' | 'maxTokens' | 'defaultSteps' | 'defaultGuidance' | 'defaultRenoise'>,
  vocab: Iterable<string>,
): CheckedRequest;

/** The words the engine reads in text: ASCII letters lower-cased, runs of a-z 0-9 '. */
export function splitWords(text: string): string[];

/** The words of text the model does not know, in order (info.vocab, or a Set of it). */
export function unknownWords(text: string, vocab: Iterable<string>): string[];

/** The known word an unknown one probably meant ('bounces' -> 'bouncing'), or null. */
export function suggestWord(word: string, vocab: Iterable<string>): string | null;
