// pipeline.mjs — one timed generation loop per engine, shared by the Node and Chromium benchmarks.
// Both engines run the same work (train/model.py's sampler): both prompts encoded, then per step a
// conditional and an unconditional denoiser pass, guidance and an Euler update, then the VAE decoder
// over every frame. Each returns medians in milliseconds and the largest byte difference from
// PyTorch's frames (ref: (F, H, W, 3) bytes).

const now = () => performance.now();

export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const round3 = (x) => Math.round(x * 1000) / 1000;

function summarise(t) {
  return { text_ms: round3(median(t.text)), step_ms: round3(median(t.step)), decode_ms: round3(median(t.decode)),
    clip_ms: round3(median(t.clip)), first_preview_ms: round3(median(t.firstPreview)) };
}

// Largest |a - ref| over RGB; a has `channels` bytes per pixel (4 for RGBA, 3 for RGB).
function maxDiff(a, ref, channels) {
  let d = 0;
  for (let i = 0, n = ref.length / 3; i < n; i++) {
    for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(a[i * channels + c] - ref[i * 3 + c]));
  }
  return d;
}

// Kineto through web/kineto-engine.js's Engine. first_preview_ms: begin, one step and a preview.
export function runKineto(engine, inputs, ref, reps) {
  const t = { text: [], step: [], decode: [], clip: [], firstPreview: [] };
  let diff = 0;
  for (let rep = -1; rep < reps; rep++) {   // rep -1 warms up
    const t0 = now();
    engine.begin({ prompt: inputs.prompt, seed: inputs.seed, steps: inputs.steps, guidance: inputs.guidance });
    const t1 = now();
    const steps = [];
    let firstPreview = 0, previewMs = 0;
    while (!engine.done()) {
      const s0 = now();
      engine.step();
      steps.push(now() - s0);
      if (steps.length === 1) {
        const p0 = now();
        engine.preview();
        previewMs = now() - p0;
        firstPreview = now() - t0;
      }
    }
    const t2 = now();
    const frames = engine.decode();
    const t3 = now();
    const bytes = new Uint8Array(frames.length * frames[0].byteLength);
    frames.forEach((f, i) => bytes.set(new Uint8Array(f), i * f.byteLength));
    engine.end();
    if (rep < 0) continue;
    t.text.push(t1 - t0); t.step.push(...steps); t.decode.push(t3 - t2); t.clip.push(t3 - t0 - previewMs);   // the other engines render no preview
    t.firstPreview.push(firstPreview);
    diff = Math.max(diff, maxDiff(bytes, ref, 4));
  }
  const memory = engine.m.wasmMemory ? engine.m.wasmMemory.buffer.byteLength : engine.m.HEAPU8.buffer.byteLength;
  return { ...summarise(t), peak_mb: round3(memory / 2 ** 20), peak_what: 'WebAssembly memory', max_abs_diff: diff };
}

// onnxruntime (web or node): sessions {text, denoiser, decoder} from the ONNX files of torch_bench.py.
export async function runOrt(ort, sessions, inputs, ref, reps) {
  const [F, C, h, w] = inputs.latent_shape.slice(1);
  const n = F * C * h * w;
  const L = inputs.ids[0].length;
  const ids = new ort.Tensor('int64', BigInt64Array.from(inputs.ids.flat().map(BigInt)), [2, L]);
  const mask = new ort.Tensor('bool', Uint8Array.from(inputs.mask.flat()), [2, L]);
  const t = { text: [], step: [], decode: [], clip: [], firstPreview: [] };
  let diff = 0, latent = null;
  for (let rep = -1; rep < reps; rep++) {
    const t0 = now();
    const { tokens, pooled } = await sessions.text.run({ ids, mask });
    const t1 = now();
    const z = Float32Array.from(inputs.noise);
    const z2 = new Float32Array(2 * n);
    for (let i = 0; i < inputs.steps; i++) {
      const s0 = now();
      const ta = 1 - i / inputs.steps, tb = 1 - (i + 1) / inputs.steps;
      z2.set(z, 0); z2.set(z, n);
      const { v } = await sessions.denoiser.run({
        z: new ort.Tensor('float32', z2, [2, F, C, h, w]), t: new ort.Tensor('float32', Float32Array.of(ta, ta), [2]),
        text: tokens, mask, pooled });
      const vd = v.data, g = inputs.guidance, dt = tb - ta;
      for (let j = 0; j < n; j++) z[j] += dt * (vd[n + j] + g * (vd[j] - vd[n + j]));
      t.step.push(now() - s0);
      if (i === 0) t.firstPreview.push(now() - t0);
    }
    const t2 = now();
    const { rgb } = await sessions.decoder.run({ z: new ort.Tensor('float32', z, [F, C, h, w]) });
    const frames = toBytes(rgb.data, F, inputs.height, inputs.width);
    const t3 = now();
    if (rep < 0) continue;
    t.text.push(t1 - t0); t.decode.push(t3 - t2); t.clip.push(t3 - t0);
    diff = Math.max(diff, maxDiff(frames, ref, 3));
    latent = z;
  }
  return { ...summarise(t), max_abs_diff: diff, latent };
}

// (F, 3, H, W) floats in [-1, 1] -> (F, H, W, 3) bytes, as train/model.py decode_frames.
function toBytes(rgb, F, H, W) {
  const out = new Uint8Array(F * H * W * 3), hw = H * W;
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < 3; c++) {
      const src = f * 3 * hw + c * hw;
      for (let p = 0; p < hw; p++) {
        const x = Math.min(1, Math.max(-1, rgb[src + p]));
        out[(f * hw + p) * 3 + c] = Math.min(255, Math.max(0, Math.floor((x + 1) * 127.5 + 0.5)));
      }
    }
  }
  return out;
}
