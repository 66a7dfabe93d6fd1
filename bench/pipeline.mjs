// pipeline.mjs — one generation per engine, timed stage by stage, shared by the Node and Chromium
// benchmarks. Every engine runs the same work (train/model.py's sampler): both prompts encoded, then
// per step a conditional and an unconditional denoiser pass, guidance and an Euler update, then the
// VAE decoder over every frame. Each clip also reports the largest byte difference from PyTorch's
// frames (ref: (F, H, W, 3) bytes).

const now = () => performance.now();

export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const round3 = (x) => Math.round(x * 1000) / 1000;

// Largest |a - ref| over RGB; a has `channels` bytes per pixel (4 for RGBA, 3 for RGB).
function maxDiff(a, ref, channels) {
  let d = 0;
  for (let i = 0, n = ref.length / 3; i < n; i++) {
    for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(a[i * channels + c] - ref[i * 3 + c]));
  }
  return d;
}

// Kineto through web/lib/kineto-engine.js's Engine. One preview after the first step gives
// first_preview_ms; its cost is left out of clip_ms (the other engines render none).
export function kinetoRunner(engine, inputs, ref) {
  const clip = async () => {
    const t0 = now();
    engine.begin({ prompt: inputs.prompt, seed: inputs.seed, steps: inputs.steps, guidance: inputs.guidance,
      renoise: 0 });   // Euler steps, as the PyTorch and ONNX pipelines
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
    return { text: t1 - t0, steps, decode: t3 - t2, clip: t3 - t0 - previewMs, firstPreview, diff: maxDiff(bytes, ref, 4) };
  };
  const memory = () => (engine.m.wasmMemory ? engine.m.wasmMemory.buffer.byteLength : engine.m.HEAPU8.buffer.byteLength);
  return { clip, extra: () => ({ peak_mb: round3(memory() / 2 ** 20), peak_what: 'WebAssembly memory' }) };
}

// onnxruntime (web or node): sessions {text, denoiser, decoder} from torch_bench.py's ONNX files.
// refLatent (optional): PyTorch's final latent, for a float comparison.
export function ortRunner(ort, sessions, inputs, ref, refLatent) {
  const [F, C, h, w] = inputs.latent_shape.slice(1);
  const n = F * C * h * w;
  const L = inputs.ids[0].length;
  const ids = new ort.Tensor('int64', BigInt64Array.from(inputs.ids.flat().map(BigInt)), [2, L]);
  const mask = new ort.Tensor('bool', Uint8Array.from(inputs.mask.flat()), [2, L]);
  let latentDiff = null;
  const clip = async () => {
    const t0 = now();
    const { tokens, pooled } = await sessions.text.run({ ids, mask });
    const t1 = now();
    const z = Float32Array.from(inputs.noise);
    const z2 = new Float32Array(2 * n);
    const steps = [];
    let firstPreview = 0;
    for (let i = 0; i < inputs.steps; i++) {
      const s0 = now();
      const ta = 1 - i / inputs.steps, tb = 1 - (i + 1) / inputs.steps;
      z2.set(z, 0); z2.set(z, n);
      const { v } = await sessions.denoiser.run({
        z: new ort.Tensor('float32', z2, [2, F, C, h, w]), t: new ort.Tensor('float32', Float32Array.of(ta, ta), [2]),
        text: tokens, mask, pooled });
      const vd = v.data, g = inputs.guidance, dt = tb - ta;
      for (let j = 0; j < n; j++) z[j] += dt * (vd[n + j] + g * (vd[j] - vd[n + j]));
      steps.push(now() - s0);
      if (i === 0) firstPreview = now() - t0;
    }
    const t2 = now();
    const { rgb } = await sessions.decoder.run({ z: new ort.Tensor('float32', z, [F, C, h, w]) });
    const frames = toBytes(rgb.data, F, inputs.height, inputs.width);
    const t3 = now();
    if (refLatent) latentDiff = z.reduce((d, x, i) => Math.max(d, Math.abs(x - refLatent[i])), 0);
    return { text: t1 - t0, steps, decode: t3 - t2, clip: t3 - t0, firstPreview, diff: maxDiff(frames, ref, 3) };
  };
  return { clip, extra: () => (latentDiff === null ? {} : { latent_max_abs_diff: Math.round(latentDiff * 1e6) / 1e6 }) };
}

// Runs the runners' clips in alternation (A B, B A, A B, ...) after one warm-up each, so engines
// compared with each other share the machine's ups and downs; returns one summary per runner.
export async function interleaved(runners, reps) {
  for (const r of runners) await r.clip();
  const acc = runners.map(() => ({ text: [], step: [], decode: [], clip: [], firstPreview: [], diff: 0 }));
  for (let rep = 0; rep < reps; rep++) {
    const order = runners.map((_, i) => i);
    if (rep % 2) order.reverse();
    for (const i of order) {
      const t = await runners[i].clip();
      const a = acc[i];
      a.text.push(t.text); a.step.push(...t.steps); a.decode.push(t.decode); a.clip.push(t.clip);
      a.firstPreview.push(t.firstPreview); a.diff = Math.max(a.diff, t.diff);
    }
  }
  return runners.map((r, i) => ({
    text_ms: round3(median(acc[i].text)), step_ms: round3(median(acc[i].step)), decode_ms: round3(median(acc[i].decode)),
    clip_ms: round3(median(acc[i].clip)), first_preview_ms: round3(median(acc[i].firstPreview)),
    max_abs_diff: acc[i].diff, ...r.extra() }));
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
