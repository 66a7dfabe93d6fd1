// report.mjs — the benchmark's tables, its targets and bench/README.md, from one run's results.
//   node bench/report.mjs [RESULTS.json]     rewrites bench/README.md (default: bench/results/latest.json)
// run.mjs calls report() on the figures it has just measured; run on its own, this rewrites the page
// from a saved run without measuring anything.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const LATEST = path.join(ROOT, 'bench/results/latest.json');
export const README = path.join(ROOT, 'bench/README.md');

const fmt = (x, d = 1) => (x === undefined || x === null ? '—' : Number(x).toFixed(d));
const ratio = (a, b) => (a && b ? Math.round((a / b) * 100) / 100 : null);

// results: {date, machine, cores, weights, prompt, seed, reps, pipeline, app, long, kernels} as run.mjs
// saves them. Returns {tables: {pipeline, long, kernels, targets} (markdown lines), targets: [...]}.
export function report(results) {
  const { pipeline, app, kernels } = results;
  const long = results.long ?? [];   // runs from before long clips were measured have none
  // Saved runs from before `cores` was recorded name the count in `machine` ("..., 2 cores, ...").
  const cores = results.cores ?? Number(/(\d+) cores/.exec(results.machine ?? '')?.[1] ?? 0);

  const lines = ['| engine | where | threads | text ms | step ms | decode ms | clip ms | first preview ms | peak MB | max diff vs PyTorch |',
    '|---|---|---|---|---|---|---|---|---|---|'];
  for (const r of pipeline) {
    lines.push(`| ${r.engine} | ${r.where} | ${r.threads} | ${fmt(r.text_ms)} | ${fmt(r.step_ms)} | ${fmt(r.decode_ms)} | ` +
      `${fmt(r.clip_ms, 0)} | ${fmt(r.first_preview_ms, 0)} | ${fmt(r.peak_mb, 0)}${r.peak_mb ? (r.peak_what === 'WebAssembly memory' ? ' (wasm)' : ' (RSS)') : ''} | ${r.max_abs_diff ?? '—'} |`);
  }
  if (app) lines.push(`| kineto page (Generate) | app-chromium | ${app.mode} | | | ${fmt(app.decode_ms)} | ${fmt(app.clip_ms, 0)} | ${fmt(app.first_preview_ms, 0)} | | |`);

  // Each build's ISA in its column heads; its kernels' % is of its own peak, at the same vector width.
  const peakOf = (where) => kernels.find((k) => k.kind === 'peak' && k.where === where) ?? {};
  const isaOf = (where) => peakOf(where).isa ?? '?';
  const kernelTable = [`| kernel | shape | what | native ${isaOf('native')} 1T | native ${isaOf('native')} 2T | ` +
    `${isaOf('wasm-node')} 1T | ${isaOf('wasm-node')} 2T |`, '|---|---|---|---|---|---|---|'];
  const peakWhat = `mul+add, 12 chains: ${peakOf('native').vector ?? 'f32x4'} native, ${peakOf('wasm-node').vector ?? 'f32x4'} wasm`;
  const kkey = (k) => `${k.kind} ${k.shape ?? ''}`;
  for (const key of [...new Set(kernels.map(kkey))]) {
    const cell = (where, t) => {
      const k = kernels.find((x) => kkey(x) === key && x.where === where && x.threads === t);
      return k ? `${fmt(k.gflops)}${k.of_peak !== undefined ? ` (${Math.round(100 * k.of_peak)}%)` : ''}` : '—';
    };
    const k0 = kernels.find((x) => kkey(x) === key);
    kernelTable.push(`| ${k0.kind} | ${k0.shape ?? ''} | ${k0.what ?? peakWhat} | ${cell('native', 1)} | ` +
      `${cell('native', 2)} | ${cell('wasm-node', 1)} | ${cell('wasm-node', 2)} |`);
  }

  const longTable = longClipTable(long);
  const targets = measureTargets(pipeline, app, kernels, cores);
  const memory = long.find((r) => r.kind === 'long-memory');
  if (memory) {
    targets.push({ name: `WebAssembly memory of a ${memory.frames}-frame clip (Kineto, linear memory size)`,
      value: `${fmt(memory.wasm_memory_mb, 0)} MB`, goal: '<= 256 MB', met: memory.wasm_memory_mb <= 256,
      note: `${fmt(memory.generation_mb)} MB of clip buffers` });
  }
  const targetTable = ['| target | measured | goal | status |', '|---|---|---|---|',
    ...targets.map((t) => `| ${t.name} | ${t.value} | ${t.goal} | ${t.met ? 'met' : 'missed'}${t.note ? ` (${t.note})` : ''} |`)];
  return { tables: { pipeline: lines, long: longTable, kernels: kernelTable, targets: targetTable }, targets };
}

// A 64-frame clip against a 16-frame one (one window of the default model) on each engine: its time,
// the ratio, the steps each ran, and how soon the first frames were final (playable).
function longClipTable(long) {
  const rows = long.filter((r) => r.kind === 'long');
  const keys = [...new Set(rows.map((r) => `${r.where}/${r.threads}`))];
  if (!keys.length) return [];
  const lines = ['| engine | where | threads | 16 frames ms | 64 frames ms | 64 / 16 | steps 16 / 64 | first frames of 64 ms |',
    '|---|---|---|---|---|---|---|---|'];
  for (const key of keys) {
    const [short, longer] = [16, 64].map((frames) => rows.find((r) => `${r.where}/${r.threads}` === key && r.frames === frames));
    if (!short || !longer) continue;
    lines.push(`| kineto | ${short.where} | ${short.threads} | ${fmt(short.clip_ms, 0)} | ${fmt(longer.clip_ms, 0)} | ` +
      `${ratio(longer.clip_ms, short.clip_ms)}x | ${short.steps} / ${longer.steps} | ${fmt(longer.first_frames_ms, 0)} |`);
  }
  return lines;
}

// The targets, each a ratio within the run (or a size or time with its own goal), so a shared
// machine's load moves both sides of a comparison together.
function measureTargets(pipeline, app, kernels, cores) {
  const find = (engine, where, threads) => pipeline.find((r) => r.engine === engine && r.where === where && r.threads === threads);
  const targets = [];
  const target = (name, value, goal, ok, note = '') => targets.push({ name, value, goal, met: ok, note });
  for (const where of ['wasm-node', 'wasm-chromium']) {
    for (const t of [1, 2]) {
      const k = find('kineto', where, t), o = find('ort-web', where, t);
      if (!k || !o) continue;
      const s = ratio(o.step_ms, k.step_ms), c = ratio(o.clip_ms, k.clip_ms);
      target(`Kineto WASM vs onnxruntime-web, ${where}, ${t} thread(s): step / clip speed-up`, `${s}x / ${c}x`, '>= 1.5x',
        s >= 1.5 && c >= 1.5);
    }
  }
  const wasmGemm = kernels.filter((k) => k.kind === 'gemm' && k.where === 'wasm-node' && k.threads === 1);
  if (wasmGemm.length) {
    const fr = wasmGemm.map((k) => k.of_peak);
    target('GEMM in WASM, fraction of the f32x4 peak, 1 thread (model shapes, min..max)',
      `${Math.round(100 * Math.min(...fr))}%..${Math.round(100 * Math.max(...fr))}%`, '>= 60%', Math.min(...fr) >= 0.6);
  }
  const peak = (where, t) => kernels.find((k) => k.kind === 'peak' && k.where === where && k.threads === t)?.gflops;
  const boxScaling = ratio(peak('wasm-node', 2), peak('wasm-node', 1));
  for (const where of ['wasm-chromium', 'wasm-node', 'native']) {
    const a = find('kineto', where, 1), b = find('kineto', where, 2);
    if (a && b) {
      target(`Kineto 2 threads vs 1, ${where}: clip speed-up`, `${ratio(a.clip_ms, b.clip_ms)}x`, '>= 1.8x',
        ratio(a.clip_ms, b.clip_ms) >= 1.8, `the register-only peak loop itself scaled ${boxScaling}x on this machine in the same run`);
    }
  }
  // run.mjs times 4 threads only on a machine with fewer than 4 cores.
  const crowded = find('kineto', 'wasm-chromium', 4), fitted = find('kineto', 'wasm-chromium', 2);
  if (cores < 4 && crowded && fitted) {
    const slower = ratio(crowded.clip_ms, fitted.clip_ms);
    target(`Kineto WASM at 4 threads on ${cores} cores vs at 2, wasm-chromium: clip time`, `${slower}x`, '<= 2x',
      slower <= 2, 'more threads than cores must not stall the pool');
  }
  if (app) {
    const size = app.width ? `, ${app.width}x${app.height}` : '';
    target('Default clip end to end in headless Chromium (the page, Generate to finished clip)', `${fmt(app.clip_ms / 1000, 2)} s`,
      '<= 2 s', app.clip_ms <= 2000, `${app.mode}, ${app.steps} steps${size}`);
    // runs from before the page's decode was timed have no decode_ms
    if (app.decode_ms !== undefined) {
      const share = app.decode_ms / app.clip_ms;
      target('Decode\'s share of the page\'s clip (last step to finished clip)', `${Math.round(100 * share)}%`, '<= 35%',
        share <= 0.35, `${fmt(app.decode_ms, 0)} of ${fmt(app.clip_ms, 0)} ms`);
    }
    target('First preview after Generate (the page)', `${fmt(app.first_preview_ms, 0)} ms`, '<= 1000 ms', app.first_preview_ms <= 1000);
  }
  for (const t of [1, 2]) {
    const k = find('kineto', 'native', t), p = find('pytorch', 'python', t);
    if (k && p) {
      target(`Kineto native vs PyTorch CPU, ${t} thread(s): step / clip speed-up`,
        `${ratio(p.step_ms, k.step_ms)}x / ${ratio(p.clip_ms, k.clip_ms)}x`, '>= 1x',
        p.step_ms >= k.step_ms && p.clip_ms >= k.clip_ms);
    }
  }
  const wasmPeak = Math.max(...pipeline.filter((r) => r.engine === 'kineto' && r.peak_what === 'WebAssembly memory').map((r) => r.peak_mb));
  target('Peak WebAssembly memory (Kineto, linear memory size)', `${fmt(wasmPeak, 0)} MB`, '<= 128 MB', wasmPeak <= 128);
  if (app) {
    target('Page download, gzip -9 of every file the page fetched (HTML, JS, CSS, WASM, weights)',
      `${fmt(app.download.gzip / 1e6, 2)} MB (raw ${fmt(app.download.bytes / 1e6, 2)} MB)`, '<= 9 MB', app.download.gzip <= 9e6);
  }
  // The 128x128 decoder's finest level, which dominates its decode (kernels.c's "128x128: " rows).
  const wide = kernels.filter((k) => k.kind === 'conv3x3' && k.where === 'wasm-node' && k.threads === 1 && k.what?.startsWith('128x128'));
  if (wide.length) {
    const fr = wide.map((k) => k.of_peak);
    target('128x128 decoder convolutions in WASM, fraction of the f32x4 peak, 1 thread (min..max)',
      `${Math.round(100 * Math.min(...fr))}%..${Math.round(100 * Math.max(...fr))}%`, '>= 75%', Math.min(...fr) >= 0.75,
      wide.map((k) => `${k.what.slice(9)} ${Math.round(100 * k.of_peak)}%`).join(', '));
  }
  return targets;
}

// bench/README.md: what is measured and how, on what machine, then the three tables of this run.
export function readme(results, { tables, targets }) {
  const isa = (where) => results.kernels.find((k) => k.kind === 'peak' && k.where === where)?.isa ?? 'unknown';
  const when = results.date.slice(0, 16).replace('T', ' ');
  const met = targets.filter((t) => t.met).length;
  const maxDiff = Math.max(...results.pipeline.map((r) => r.max_abs_diff ?? 0));
  return `# Kineto benchmark

\`./build.sh bench\` measures every engine and writes this page and [\`results/latest.json\`](results/latest.json)
(\`BENCH_REPS=5 ./build.sh bench\` for more clips a median); \`node bench/report.mjs\` rewrites the page from
that file. Earlier runs are in the history of that file.

Run ${when} UTC on ${results.machine}; native build ${isa('native')}, WebAssembly
${isa('wasm-node')}. Model \`${results.weights}\`, prompt "${results.prompt}", seed ${results.seed}, medians of
${results.reps} clips. Largest difference from PyTorch's clip over all engines: ${maxDiff} of 255.

Every engine generates the same clip from the same model, inputs and step count: Kineto native,
Kineto's WebAssembly build in Node and in headless Chromium (cross-origin isolated; 1 thread is the
\`simd\` build, more the \`simd-mt\` one), Kineto's own page (Generate pressed, default settings, 2
threads; its decode is the time from the last step to the finished clip),
onnxruntime-web (WebAssembly SIMD) and onnxruntime-node on the same model exported to ONNX, and
PyTorch on the CPU. The model is \`weights/kineto-world.kin\`, or a full-size random model
(\`bench/make_model.py\`) when it is absent, or \`BENCH_WEIGHTS\` (e.g. \`make_model.py --size 128\`'s); the sampler runs Euler steps (renoise 0) so that every
engine runs the same one. Each clip's bytes are compared with PyTorch's. Kineto WASM and
onnxruntime-web run in one process with their clips alternating, onnxruntime with its pool's spinning
off and PyTorch with passive OpenMP waiting. Figures are medians after a warm-up; kernels, GFLOP/s as
the median over windows of the fastest call, with the share of a register-only multiply-add loop of
the same vector width (no fused multiply-add, which keeps native and WebAssembly bits equal). The
machine may be shared, so the targets compare engines within one run.

## Clip

${tables.pipeline.join('\n')}

${tables.long?.length ? `## Long clips

A clip past the model's window is made window by window: 64 frames against one window of 16, every
window the same steps; its first frames are final, and play, after the first window.

${tables.long.join('\n')}

` : ''}## Kernels

${tables.kernels.join('\n')}

## Targets

${met} of ${targets.length} met.

${tables.targets.join('\n')}
`;
}

// Writes bench/README.md through a temporary name, so a failed write leaves the old page whole.
export function writeReadme(results, computed = report(results)) {
  const tmp = `${README}.tmp`;
  fs.writeFileSync(tmp, readme(results, computed));
  fs.renameSync(tmp, README);
  return README;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const file = path.resolve(process.argv[2] ?? LATEST);
  let results;
  try {
    results = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`report.mjs: cannot read ${file}: ${error.message}`);
    process.exit(1);
  }
  for (const field of ['date', 'machine', 'weights', 'prompt', 'seed', 'reps', 'pipeline', 'kernels']) {
    if (results[field] === undefined) {
      console.error(`report.mjs: ${file} has no '${field}'; is it a bench/run.mjs results file?`);
      process.exit(1);
    }
  }
  console.log(`wrote ${path.relative(ROOT, writeReadme(results))} from ${path.relative(ROOT, file)}`);
}
