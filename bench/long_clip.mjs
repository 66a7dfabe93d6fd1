// long_clip.mjs — long clips timed through web/lib/kineto-engine.js, as web/lib/worker.js makes them
// (every step, then the frames that became final decoded at once). Shared by long_bench.mjs (Node)
// and bench/page/long.mjs (a Chromium worker).
//   rows: [{frames, clip_ms, first_frames_ms, steps, generation_mb}], medians of reps after a warm-up.

export const LONG_FRAMES = [16, 64];    // one window of the default model, and four times its length

// One clip: its time, the time until its first frames were final (playable), its steps, its buffers.
export function timeClip(engine, request) {
  const t0 = performance.now();
  engine.begin(request);
  const generationBytes = engine.generationBytes();
  let firstFrames = null;
  while (!engine.done()) {
    engine.step();
    if (engine.takeReadyFrames().frames.length && firstFrames === null) firstFrames = performance.now() - t0;
  }
  const steps = engine.stepsTotal();
  engine.end();
  return { clip_ms: performance.now() - t0, first_frames_ms: firstFrames, steps, generation_mb: generationBytes / 2 ** 20 };
}

// The linear memory's size in MB: it only grows, so read after a clip it is that clip's peak.
export function wasmMemoryMb(engine) {
  return (engine.m.wasmMemory ? engine.m.wasmMemory.buffer.byteLength : engine.m.HEAPU8.length) / 2 ** 20;
}

export function longRows(engine, { prompt, seed, steps, reps }, frameCounts = LONG_FRAMES) {
  return frameCounts.map((frames) => {
    const request = { prompt, seed, steps, frames };
    timeClip(engine, request);   // warm-up
    const runs = Array.from({ length: reps }, () => timeClip(engine, request));
    const med = (key) => Math.round(1000 * median(runs.map((r) => r[key]))) / 1000;
    return { frames, clip_ms: med('clip_ms'), first_frames_ms: med('first_frames_ms'), steps: runs[0].steps,
      generation_mb: runs[0].generation_mb };
  });
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
