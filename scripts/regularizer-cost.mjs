#!/usr/bin/env node
// Per-step cost of each regulariser of @chainz/dreg relative to none, on one MLP shape.
//
//   pnpm build && node scripts/regularizer-cost.mjs [--backend cpu|wasm] [--rounds 25] [--steps 4]
//
// Model: d_in 32 → 64 → 64 (gelu, activationDense) → 4 logits, batch 128, Adam,
// softmax cross-entropy (twice differentiable, for the second-order penalties).
// Kinds are timed in interleaved rounds (each round runs every kind for `steps`
// steps, in an order that rotates each round); the ratio to `none` is taken within
// each round and its median over rounds reported, so a loaded machine slows
// every kind alike. Networks without DREG build no trace (plain `activate`).
// A benchmark, not a test.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dreg = await import(path.join(root, 'packages/dreg/dist/index.js'));
const core = await import(path.join(root, 'packages/core/dist/index.js'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const backend = arg('backend', 'cpu');
const rounds = Number(arg('rounds', 25));
const steps = Number(arg('steps', 4));
if (backend === 'wasm') {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setThreadsCount?.(1);
}
if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
await tf.ready();

const [dIn, hidden, classes, batch] = [32, 64, 4, 128];
const kinds = [
  ['none', 'none'],
  ['weight-decay (L2 in loss)', { kind: 'weight-decay' }],
  ['weight-decay (decoupled)', { kind: 'weight-decay', decoupled: true }],
  ['input-gradient', 'input-gradient'],
  ['spectral-norm', 'spectral-norm'],
  ['jacobian-projection (1)', 'jacobian-projection'],
  ['dreg (frobenius)', 'dreg'],
];

function setup(spec) {
  const rng = new core.Rng(1);
  const m = (r, c, s) => tf.tensor2d(Array.from({ length: r * c }, () => rng.normal() * s), [r, c]);
  const w = [tf.variable(m(dIn, hidden, 0.2)), tf.variable(m(hidden, hidden, 0.15)), tf.variable(m(hidden, classes, 0.15))];
  const b = [tf.variable(tf.zeros([hidden])), tf.variable(tf.zeros([hidden])), tf.variable(tf.zeros([classes]))];
  const x = m(batch, dIn, 1);
  const y = tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % classes), 'int32'), classes), 'float32');
  const reg = dreg.createRegularizer(spec);
  const opt = tf.train.adam(1e-3);
  let step = 0;
  const forward = (xx) => {
    const k = w.map((v, l) => reg.kernel(v, { layer: l, step, training: true }));
    if (!reg.needs.traces) {
      // no trace (σ′) when the regulariser does not use it
      const h1 = dreg.activate(core.dense(xx, k[0], b[0]), 'gelu');
      const h2 = dreg.activate(core.dense(h1, k[1], b[1]), 'gelu');
      return { logits: core.dense(h2, k[2], b[2]), traces: [] };
    }
    const l1 = dreg.activationDense(xx, { kernel: k[0], bias: b[0] }, 'gelu');
    const l2 = dreg.activationDense(l1.y, { kernel: k[1], bias: b[1] }, 'gelu');
    return { logits: core.dense(l2.y, k[2], b[2]), traces: [l1.trace, l2.trace] };
  };
  const run = () => {
    const loss = opt.minimize(() => {
      const { logits, traces } = forward(x);
      const task = tf.mean(dreg.twiceDifferentiableSoftmaxCrossEntropy(y, logits));
      const pen = reg.penalty({
        step,
        x,
        traces,
        kernels: w,
        perSampleLoss: (xx) => dreg.twiceDifferentiableSoftmaxCrossEntropy(y, forward(xx).logits),
        outputs: (xx) => forward(xx).logits,
      });
      return tf.add(task, pen);
    }, true);
    loss.dataSync();
    loss.dispose();
    reg.afterStep({ step, kernels: w, learningRate: 1e-3 });
    step++;
  };
  return { run };
}

const runners = kinds.map(([, spec]) => setup(spec));
for (const r of runners) for (let i = 0; i < 3; i++) r.run(); // warm-up
const times = kinds.map(() => []);
for (let round = 0; round < rounds; round++) {
  // rotate the order each round so that no kind always runs first
  for (let j = 0; j < runners.length; j++) {
    const k = (j + round) % runners.length;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) runners[k].run();
    times[k].push((performance.now() - t0) / steps);
  }
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
// ratio to `none` within each round (kinds of one round run back to back), then the median over rounds
const ratios = kinds.map((_, k) => median(times[k].map((t, r) => t / times[0][r])));
console.log(`backend ${backend}; MLP ${dIn}→${hidden}→${hidden}→${classes} (gelu), batch ${batch}, Adam; ${rounds} rounds × ${steps} steps`);
console.log('| regulariser | ms/step (median) | ms/step (best round) | × none (median of per-round ratios) |');
console.log('|---|---|---|---|');
kinds.forEach(([name], k) => {
  console.log(`| ${name} | ${median(times[k]).toFixed(2)} | ${Math.min(...times[k]).toFixed(2)} | ${ratios[k].toFixed(2)} |`);
});
