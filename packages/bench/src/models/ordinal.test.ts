import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@chainz/core';
import { cumulativeLogits, ordinalClassProbabilities, ordinalLevels, ordinalLoss, ordinalPredict } from './ordinal';
import { Mlp, effectiveEpochs, mlpModel, trainMlp, type MlpConfig } from './mlp';
import { accuracy, type TabularFold } from './types';
import { meanAbsoluteError } from '@chainz/metrics';

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Float64 reference of the head: η, loss, ∂ℓ/∂s, ∂ℓ/∂u, written from the equations in ordinal.ts. */
function reference(s: number, u: number[], y: number) {
  const m = u.length + 1;
  const offsets = [0];
  for (const uj of u) offsets.push(offsets[offsets.length - 1] + softplus(uj));
  const eta = offsets.map((o) => s - o);
  const z = eta.map((_, k) => (y > k ? 1 : 0));
  const loss = eta.reduce((a, e, k) => a + softplus(e) - z[k] * e, 0);
  const r = eta.map((e, k) => sigmoid(e) - z[k]); // ∂ℓ/∂η_k
  const dS = r.reduce((a, b) => a + b, 0);
  // η_k = s − Σ_{j ≤ k} softplus(u_j) (u_j enters thresholds k ≥ j, 1-based j): ∂ℓ/∂u_j = −σ(u_j) Σ_{k ≥ j} r_k
  const dU = u.map((uj, j) => -sigmoid(uj) * r.slice(j + 1).reduce((a, b) => a + b, 0));
  return { eta, loss, dS, dU, m };
}

describe('ordinal head (cumulative link, CORAL-style loss)', () => {
  it('matches a hand-computed float64 case: η, loss and gradients', () => {
    const scores = [0.3, -1.2, 2.5];
    const labels = [2, 0, 4];
    const u = [0.2, -0.5, 1.1]; // K = 5
    const before = tf.memory().numTensors;
    const s = tf.tensor2d(scores, [3, 1]);
    const gaps = tf.tensor1d(u);
    const levels = ordinalLevels(Int32Array.from(labels), 5);
    expect(Array.from(levels.dataSync())).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    const eta = cumulativeLogits(s, gaps);
    const loss = ordinalLoss(eta, levels);
    const etaV = eta.arraySync();
    const lossV = loss.arraySync();
    const refs = scores.map((sc, i) => reference(sc, u, labels[i]));
    refs.forEach((r, i) => {
      r.eta.forEach((e, k) => expect(etaV[i][k]).toBeCloseTo(e, 5));
      expect(lossV[i]).toBeCloseTo(r.loss, 5);
    });
    tf.dispose([eta, loss, levels, s, gaps]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('autodiff gradients equal the analytic ∂ℓ/∂s = Σ_k σ(η_k) − z_k and ∂ℓ/∂u', () => {
    const scores = [0.3, -1.2, 2.5];
    const labels = [2, 0, 4];
    const u = [0.2, -0.5, 1.1];
    const levels = ordinalLevels(Int32Array.from(labels), 5);
    const f = (s: tf.Tensor, g: tf.Tensor) => tf.sum(ordinalLoss(cumulativeLogits(s as tf.Tensor2D, g as tf.Tensor1D), levels));
    const [dS, dU] = tf.grads(f)([tf.tensor2d(scores, [3, 1]), tf.tensor1d(u)]);
    const refs = scores.map((sc, i) => reference(sc, u, labels[i]));
    const dSv = dS.dataSync();
    refs.forEach((r, i) => expect(dSv[i]).toBeCloseTo(r.dS, 5));
    const dUv = dU.dataSync();
    u.forEach((_, j) => expect(dUv[j]).toBeCloseTo(refs.reduce((a, r) => a + r.dU[j], 0), 5));
    // Hand values for sample 0 (s = 0.3, y = 2): offsets 0, 0.798139, 1.272214 → η = 0.3, −0.498139, −0.972214, …
    expect(refs[0].eta[1]).toBeCloseTo(0.3 - Math.log1p(Math.exp(0.2)), 12);
    tf.dispose([dS, dU, levels]);
  });

  it('is rank-consistent: P(y > k) is non-increasing in k for any parameters and input', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 20; trial++) {
      const K = 3 + (trial % 5);
      const u = Array.from({ length: K - 2 }, () => rng.normal() * (trial < 10 ? 3 : 30)); // includes extreme gaps
      const scores = Array.from({ length: 16 }, () => rng.normal() * 20);
      const eta = cumulativeLogits(tf.tensor2d(scores, [16, 1]), tf.tensor1d(u));
      const p = tf.sigmoid(eta).arraySync() as number[][];
      for (const row of p) for (let k = 1; k < row.length; k++) expect(row[k]).toBeLessThanOrEqual(row[k - 1]);
      const probs = ordinalClassProbabilities(eta).arraySync() as number[][];
      for (const row of probs) {
        for (const v of row) expect(v).toBeGreaterThanOrEqual(0);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
      // the predicted class is the predictive median: the first k with P(y ≤ k) ≥ 1/2
      const pred = ordinalPredict(eta);
      probs.forEach((row, i) => {
        let c = 0, k = 0;
        for (; k < row.length; k++) {
          c += row[k];
          if (c >= 0.5) break;
        }
        if (Math.abs(c - 0.5) > 1e-4) expect(pred[i]).toBe(k);
      });
      tf.dispose(eta);
    }
  });

  it('K = 2 reduces to logistic regression (one threshold, no gaps)', () => {
    const s = tf.tensor2d([0.7, -0.1], [2, 1]);
    const eta = cumulativeLogits(s, null);
    expect(eta.shape).toEqual([2, 1]);
    const l = ordinalLoss(eta, ordinalLevels(Int32Array.from([1, 0]), 2)).dataSync();
    expect(l[0]).toBeCloseTo(Math.log1p(Math.exp(-0.7)), 6);
    expect(l[1]).toBeCloseTo(Math.log1p(Math.exp(-0.1)), 6);
    expect(Array.from(ordinalPredict(eta))).toEqual([1, 0]);
  });

  it('rejects bad labels and shapes with clear errors', () => {
    expect(() => ordinalLevels(Int32Array.from([0, 5]), 5)).toThrow(/label 1 is 5; expected 0 … 4/);
    expect(() => ordinalLevels(Int32Array.from([0]), 1)).toThrow(/≥ 2/);
    expect(() => cumulativeLogits(tf.zeros([2, 3]) as tf.Tensor2D, null)).toThrow(/\[B, 1\]/);
    expect(() => ordinalLoss(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(/levels/);
  });
});

/** A 1-d latent variable cut into 5 ordered classes, observed through 6 noisy features. */
function ordinalData(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 6);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = rng.normal() * 1.5;
    y[i] = t < -1.5 ? 0 : t < -0.5 ? 1 : t < 0.5 ? 2 : t < 1.5 ? 3 : 4;
    for (let j = 0; j < 6; j++) x[i * 6 + j] = (j < 3 ? t : -t) * 0.8 + rng.normal() * 0.5;
  }
  return { x, y };
}

const base: MlpConfig = { hidden: [16], activation: 'poly', poly: { degree: 3, basis: 'monomial', guard: 'tanh' }, polyInit: 'gelu', dreg: { variant: 'frobenius', lambda: 10 ** -2.5 }, epochs: 30, batchSize: 32, learningRate: 1e-2, weightDecay: 0, validationFraction: 0 };

describe('Mlp with an ordinal head', () => {
  it('learns an ordinal problem, predicts the median, keeps thresholds ordered, and leaks no tensors', async () => {
    const tr = ordinalData(300, 1), te = ordinalData(200, 2);
    const fold: TabularFold = { xTrain: tr.x, yTrain: tr.y, xTest: te.x, yTest: te.y, nFeatures: 6, nClasses: 5 };
    const before = tf.memory().numTensors;
    const r = await mlpModel('cr-ord', 'test', { ...base, head: 'ordinal' }).run(fold, 7);
    expect(tf.memory().numTensors).toBe(before);
    expect(accuracy(r.predictions, te.y)).toBeGreaterThan(0.6);
    expect(meanAbsoluteError(r.predictions, te.y)).toBeLessThan(0.5);
    expect(r.tau).toBeGreaterThan(1);
    // 6·16 + 16 + 16·4 (cubic coefficients) + 16·1 + 1 + 3 gaps
    expect(r.info?.parameters).toBe(6 * 16 + 16 + 16 * 4 + 16 + 1 + 3);
  });

  it('forward gives K − 1 decreasing cumulative logits; predict = #{η > 0}', () => {
    const m = new Mlp({ ...base, head: 'ordinal' }, 6, 5, 3);
    const x = tf.randomNormal([8, 6], 0, 1, 'float32', 5) as tf.Tensor2D;
    const eta = tf.tidy(() => m.forward(x).logits);
    expect(eta.shape).toEqual([8, 4]);
    const rows = eta.arraySync();
    for (const r of rows) for (let k = 1; k < 4; k++) expect(r[k]).toBeLessThan(r[k - 1]);
    expect(Array.from(m.predict(x))).toEqual(rows.map((r) => r.filter((v) => v > 0).length));
    tf.dispose([eta, x]);
    m.dispose();
  });

  it('the softmax head is unchanged: targets are one-hot and predictions the argmax', () => {
    const m = new Mlp({ ...base, activation: 'relu', dreg: null }, 6, 5, 3);
    const t = m.encodeTargets(Int32Array.from([0, 4]));
    expect(t.arraySync()).toEqual([[1, 0, 0, 0, 0], [0, 0, 0, 0, 1]]);
    t.dispose();
    m.dispose();
  });
});

describe('MLP training extensions', () => {
  it('effectiveEpochs raises the epochs to reach minSteps on small data', () => {
    expect(effectiveEpochs({ epochs: 30, batchSize: 64 }, 10)).toBe(30);
    expect(effectiveEpochs({ epochs: 30, batchSize: 64, minSteps: 400 }, 10)).toBe(400);
    expect(effectiveEpochs({ epochs: 30, batchSize: 64, minSteps: 400 }, 640)).toBe(40);
    expect(effectiveEpochs({ epochs: 30, batchSize: 64, minSteps: 400 }, 64000)).toBe(30);
  });

  it('with minSteps, checks the validation loss at about the configured number of epochs', async () => {
    const tr = ordinalData(20, 4), va = ordinalData(20, 5);
    const m = new Mlp({ ...base, activation: 'relu', dreg: null, epochs: 4, minSteps: 20 }, 6, 5, 3);
    const x = tf.tensor2d(tr.x, [20, 6]), xv = tf.tensor2d(va.x, [20, 6]);
    const st = trainMlp(m, x, tr.y, 5, 1, { x: xv, y: va.y });
    expect(st.steps).toBe(20); // 20 epochs of one batch
    expect([5, 10, 15, 20]).toContain(st.bestEpoch); // checks every ⌈20 / 4⌉ = 5 epochs
    tf.dispose([x, xv]);
    m.dispose();
  });

  it('uses an explicit validation set (fold.xVal) instead of holding out training rows', async () => {
    const tr = ordinalData(100, 4), va = ordinalData(40, 5), te = ordinalData(40, 6);
    const cfg: MlpConfig = { ...base, activation: 'relu', dreg: null, epochs: 5, validationFraction: 0.5 };
    const withVal: TabularFold = { xTrain: tr.x, yTrain: tr.y, xVal: va.x, yVal: va.y, xTest: te.x, yTest: te.y, nFeatures: 6, nClasses: 5 };
    const r = await mlpModel('m', 'test', cfg).run(withVal, 1);
    expect(r.info?.steps).toBe(5 * Math.ceil(100 / 32)); // all 100 training rows used
    expect(Number(r.info?.bestValidationLoss)).toBeGreaterThan(0);
    const held = await mlpModel('m', 'test', cfg).run({ ...withVal, xVal: undefined, yVal: undefined }, 1);
    expect(held.info?.steps).toBe(5 * Math.ceil(50 / 32)); // half held out
  });

  it('trainMlp checks the class count against the model', () => {
    const m = new Mlp({ ...base, head: 'ordinal' }, 6, 5, 3);
    const x = tf.zeros([4, 6]) as tf.Tensor2D;
    expect(() => trainMlp(m, x, Int32Array.from([0, 1, 2, 3]), 4, 0)).toThrow(/nClasses 4/);
    x.dispose();
    m.dispose();
  });
});
