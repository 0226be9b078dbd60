#!/usr/bin/env node
// Cost of the non-finite watchdog per training step, in the bench's own
// training loop (trainClassifier: a ChainzRule MLP with DREG, Adam), on the
// shapes `pnpm bench:perf` uses:
//   node scripts/watchdog-cost.mjs [--backend wasm|cpu] [--rounds 15] [--epochs 4]
// Each round trains the same model for the same steps twice — watchdog off
// (`nonFinite: 'off'`) and on (`'throw'`, the default) — in alternating order,
// and times both; it prints the median ratio on/off (with the range over
// rounds) and the added milliseconds per step, and the check alone (the fused
// reduction over the loss and every gradient, plus its read) timed in a tight
// loop: on a busy machine the ratio is noisy, the check's own time is not.
// Needs the built packages (`pnpm build`).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDist = path.join(root, 'packages/bench/dist/index.js');
if (!existsSync(benchDist)) {
  process.stderr.write('watchdog-cost: build the packages first (pnpm build)\n');
  process.exit(1);
}
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const backend = arg('--backend', 'wasm');
const rounds = Number(arg('--rounds', '15'));

const req = createRequire(path.join(root, 'packages/bench/package.json'));
const tf = req('@tensorflow/tfjs-core');
req('@tensorflow/tfjs-layers'); // registers the gradients in Node
if (backend === 'wasm') req('@tensorflow/tfjs-backend-wasm');
else req('@tensorflow/tfjs-backend-cpu');
await tf.setBackend(backend);
await tf.ready();
const { Mlp, trainClassifier } = await import(pathToFileURL(benchDist).href);
const core = await import(pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href);
const epochs = Number(arg('--epochs', '4'));

const shapes = [
  { name: 'mlp-64-256-256-10-b256', dims: [64, 256, 256, 10], batch: 256, steps: 8 },
  { name: 'pima-8-32-32-2-b64', dims: [8, 32, 32, 2], batch: 64, steps: 12 },
];

/** Seeded uniform numbers (no Math.random: the same data every run). */
function lcg(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
process.stdout.write(`non-finite watchdog cost per training step (backend ${backend}, ${rounds} rounds, median [min–max])\n`);
for (const s of shapes) {
  const [nIn, ...rest] = s.dims;
  const nOut = rest.pop();
  const n = s.batch * s.steps;
  const r = lcg(7);
  const x = tf.tensor2d(Float32Array.from({ length: n * nIn }, r), [n, nIn]);
  const y = Int32Array.from({ length: n }, (_, i) => i % nOut);
  const config = { hidden: rest, activation: 'poly', dreg: { variant: 'frobenius', lambda: 10 ** -2.5 }, epochs, batchSize: s.batch, learningRate: 1e-3, weightDecay: 0, validationFraction: 0 };
  const time = (nonFinite) => {
    const model = new Mlp(config, nIn, nOut, 1);
    const t0 = performance.now();
    trainClassifier(model, { epochs, batchSize: s.batch, learningRate: 1e-3, weightDecay: 0, dreg: config.dreg, nonFinite }, x, y, nOut, 3);
    const ms = performance.now() - t0;
    model.dispose();
    return ms / (s.steps * epochs);
  };
  // The check alone: the fused flag over the loss and one gradient per variable, and its read.
  const probe = new Mlp(config, nIn, nOut, 1);
  const grads = probe.variables().map((v) => tf.randomNormal(v.shape));
  const loss = tf.scalar(1);
  const check = () => {
    const f = core.nonFiniteFlag([loss, ...grads]);
    f.dataSync();
    f.dispose();
  };
  for (let i = 0; i < 20; i++) check();
  const reps = 200;
  const c0 = performance.now();
  for (let i = 0; i < reps; i++) check();
  const checkMs = (performance.now() - c0) / reps;
  tf.dispose([...grads, loss]);
  probe.dispose();
  time('off');
  time('throw'); // warm-up (kernels, wasm compile)
  const ratios = [];
  const added = [];
  const off = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ['off', 'throw'] : ['throw', 'off'];
    const t = {};
    for (const p of order) t[p] = time(p);
    ratios.push(t.throw / t.off);
    added.push(t.throw - t.off);
    off.push(t.off);
  }
  process.stdout.write(
    `${s.name.padEnd(24)} training step ${median(off).toFixed(2)} ms without the watchdog; with/without ${median(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}] (+${median(added).toFixed(3)} ms); ` +
      `the check alone ${checkMs.toFixed(3)} ms = ${((100 * checkMs) / median(off)).toFixed(1)}% of a step\n`,
  );
  x.dispose();
}
