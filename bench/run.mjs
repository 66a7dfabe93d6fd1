// run.mjs — Kineto's benchmark: every engine on the same model, inputs and step count, one table.
//   node bench/run.mjs WEIGHTS DIR REPS
// DIR is where torch_bench.py writes the shared inputs, PyTorch's reference clip and the ONNX
// models, and where build.sh bench() built bench_engine and the kernel benchmarks. Prints the
// tables, writes bench/results/latest.json (replacing the previous run's) and bench/README.md
// (bench/report.mjs). Every figure is a median after a warm-up; the machine may be shared, so the
// comparisons that matter are the ratios within one run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LATEST, report, writeReadme } from './report.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const [weights, dir, repsArg = '3'] = process.argv.slice(2);
const PROMPT = 'a red ball moving left on black';
const SEED = '7';
const say = (s) => console.log(`\x1b[1m==> ${s}\x1b[0m`);

// Runs a command at the lowest priority; returns the JSON lines it printed.
function jsonLines(cmd, args, env = {}) {
  say([cmd, ...args].join(' ').replace(ROOT, ''));
  const r = spawnSync('nice', ['-n', '19', cmd, ...args], { cwd: ROOT, env: { ...process.env, ...env },
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const lines = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  if (r.status !== 0) {
    console.error((r.stderr ?? '').split('\n').filter((l) => !/Warning|warn\(|^\s*$/.test(l)).slice(-15).join('\n'));
    console.error(`(exit ${r.status}; ${lines.length} results kept)`);
  }
  for (const l of lines) console.log('   ', JSON.stringify(l).slice(0, 200));
  return lines;
}

const startLoad = os.loadavg();
const started = new Date();
const reps = String(repsArg);
const rows = [];
// PyTorch first: it writes the inputs, the reference and the ONNX files the others read. Passive
// OpenMP waiting keeps its second thread from spinning against OpenBLAS's (a run with the default
// policy: 1327 against 600 ms a clip at 2 threads).
rows.push(...jsonLines('/usr/bin/python3', ['bench/torch_bench.py', '--kin', weights, '--dir', dir, '--reps', reps],
  { OMP_WAIT_POLICY: 'PASSIVE' }));
for (const t of ['1', '2']) {
  rows.push(...jsonLines(path.join(dir, 'bench_engine'), [weights, PROMPT, SEED, t, reps, path.join(dir, 'ref_frames.u8')]));
}
// Long clips: 64 frames against 16, natively and in WebAssembly, and the memory of a 256-frame clip.
// BENCH_LONG_STEPS (default: the model's) shortens them for a quick check of this path.
const longSteps = process.env.BENCH_LONG_STEPS ? [process.env.BENCH_LONG_STEPS] : [];
rows.push(...jsonLines(path.join(dir, 'bench_long'), [weights, PROMPT, SEED, '2', reps, ...longSteps]));
rows.push(...jsonLines('node', ['bench/long_bench.mjs', weights, PROMPT, SEED, reps, ...longSteps]));
for (const engine of ['wasm', 'ort-node']) {
  for (const t of ['1', '2']) rows.push(...jsonLines('node', ['bench/node_bench.mjs', engine, t, dir, weights, reps]));
}
// On a machine with fewer than 4 cores, also the web build's largest pool (4 threads), which outnumbers
// them: its threads must not spin on cores that its working threads wait for.
const oversubscribed = os.cpus().length < 4 ? ['wasm:4'] : [];
rows.push(...jsonLines('node', ['bench/chromium_bench.mjs', dir, weights, reps, 'wasm:1', 'wasm:2', ...oversubscribed, 'app',
  'long:2']));
const kernels = [
  ...jsonLines(path.join(dir, 'kernels'), ['1', '2']),
  ...jsonLines('node', ['--no-experimental-fetch', path.join(dir, 'wasm/kernels.js'), '1', '2']),
];

const cpu = os.cpus();
const results = { date: started.toISOString(),
  machine: `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, load average ${startLoad.map((x) => x.toFixed(1)).join(' ')} at start`,
  cores: cpu.length, load_end: os.loadavg(), weights: path.relative(ROOT, path.resolve(weights)), prompt: PROMPT,
  seed: Number(SEED), reps: Number(reps), pipeline: rows.filter((r) => r.step_ms !== undefined),
  app: rows.find((r) => r.where === 'app-chromium'), long: rows.filter((r) => r.kind?.startsWith('long')), kernels };
if (!results.pipeline.length) {
  console.error('\nno engine produced a clip; bench/results/latest.json and bench/README.md are left as they were');
  process.exit(1);
}
const { tables, targets } = report(results);
const maxDiffs = results.pipeline.map((r) => r.max_abs_diff ?? 0);
console.log(`\nKineto benchmark, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC; ${results.machine}`);
console.log(`model ${results.weights}; prompt "${PROMPT}", seed ${SEED}; medians of ${reps} runs after a warm-up`);
console.log(`clip bytes vs PyTorch: max abs diff ${Math.max(...maxDiffs)} (of 255) over all engines\n`);
console.log([...tables.pipeline, '', ...tables.long, '', ...tables.kernels, '', ...tables.targets].join('\n'));

// Only the latest run is kept (earlier ones are in its history), written through a temporary name
// so that a failed write leaves the previous results whole.
fs.mkdirSync(path.dirname(LATEST), { recursive: true });
fs.writeFileSync(`${LATEST}.tmp`, JSON.stringify({ ...results, targets, tables }, null, 1) + '\n');
fs.renameSync(`${LATEST}.tmp`, LATEST);
console.log(`\nwrote ${path.relative(ROOT, LATEST)}`);
console.log(`wrote ${path.relative(ROOT, writeReadme(results, { tables, targets }))}`);
