import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NonFiniteError, Rng } from '@chainz/core';
import { setNumericCheck } from '@chainz/poly-layer';
import { Mlp, trainMlp, type MlpConfig } from './mlp';
import { trainClassifier, type TrainOptions } from './train';

const rng = new Rng(21);
const N = 48;
const D = 4;
const xData = Float32Array.from({ length: N * D }, () => rng.normal());
const y = Int32Array.from({ length: N }, (_, i) => (xData[i * D] + xData[i * D + 1] > 0 ? 1 : 0));

const config = (over: Partial<MlpConfig> = {}): MlpConfig => ({
  hidden: [6, 6],
  activation: 'poly',
  dreg: { lambda: 0.01 },
  epochs: 2,
  batchSize: 16,
  learningRate: 0.01,
  weightDecay: 0,
  validationFraction: 0,
  ...over,
});
const opts = (c: MlpConfig, over: Partial<TrainOptions> = {}): TrainOptions => ({ epochs: c.epochs, batchSize: c.batchSize, learningRate: c.learningRate, weightDecay: c.weightDecay, dreg: c.dreg, ...over });
const errorOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as NonFiniteError;
  }
  throw new Error('did not throw');
};

describe('the bench trainer with the non-finite watchdog', () => {
  it('does not change the numbers: the same weights with the watchdog on and off', () => {
    const c = config();
    const a = new Mlp(c, D, 2, 3);
    const b = new Mlp(c, D, 2, 3);
    const x = tf.tensor2d(xData, [N, D]);
    const sa = trainClassifier(a, opts(c), x, y, 2, 5);
    const sb = trainClassifier(b, opts(c, { nonFinite: 'off' }), x, y, 2, 5);
    expect(sa.finalTaskLoss).toBe(sb.finalTaskLoss);
    a.variables().forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(b.variables()[i].dataSync())));
    expect(sa.skippedSteps).toBe(0);
  });

  it('λ = 1e308: a typed NonFiniteError at step 0 naming the DREG penalty (was an untyped "training diverged")', () => {
    const c = config({ dreg: { lambda: 1e308 } });
    const m = new Mlp(c, D, 2, 1);
    const e = errorOf(() => trainMlp(m, tf.tensor2d(xData, [N, D]), y, 2, 1));
    expect(e).toBeInstanceOf(NonFiniteError);
    expect(e.message).toMatch(/^step 0: the loss is not finite \((Infinity|NaN); task loss [\d.]+, DREG penalty (Infinity|NaN)\)$/);
    expect([e.code, e.kind, e.tensorName, e.step]).toEqual(['E_NONFINITE', 'loss', 'DREG penalty', 0]);
    // the weights are those before the step
    expect(m.variables().every((v) => v.dataSync().every(Number.isFinite))).toBe(true);
  });

  it('a NaN in one training row: stops at the first batch holding it, naming the data row', () => {
    const bad = xData.slice();
    bad[29 * D + 2] = NaN;
    const c = config();
    const m = new Mlp(c, D, 2, 1);
    const e = errorOf(() => trainClassifier(m, opts(c), tf.tensor2d(bad, [N, D]), y, 2, 7));
    expect(e.kind).toBe('input');
    expect(e.row).toBe(29);
    expect(e.message).toMatch(/^step [0-2]: the input holds NaN or ±Infinity in batch row \d+ \(data row 29\)$/);
  });

  it("guard 'none', inputs ~1e6, three hidden layers: names the layer whose values overflow", () => {
    setNumericCheck('off'); // the none guard's own first-call check would report it first
    onTestFinished(() => setNumericCheck('first'));
    const c = config({ hidden: [8, 8, 8], poly: { guard: 'none' }, dreg: null, learningRate: 0.001 });
    const m = new Mlp(c, D, 2, 2);
    const big = xData.map((v) => v * 1e12);
    const e = errorOf(() => trainClassifier(m, opts(c), tf.tensor2d(big, [N, D]), y, 2, 3));
    expect(e).toBeInstanceOf(NonFiniteError);
    expect(e.kind).toBe('activation');
    expect(e.layer).toMatch(/^hidden [123]$|^output$/);
    expect(e.message).toMatch(new RegExp(`^step 0: (pre-activation z|output|logits) of layer '${e.layer}' is not finite \\(.*; first in batch row \\d+ \\(data row \\d+\\)\\)$`));
  });

  it("'skip-step' trains past the batches holding a bad row, with finite weights and the skipped count", () => {
    const bad = xData.slice();
    bad[5 * D] = Infinity;
    const c = config({ epochs: 3 });
    const m = new Mlp(c, D, 2, 1);
    const seen: NonFiniteError[] = [];
    const st = trainClassifier(m, opts(c, { nonFinite: 'skip-step', onNonFinite: (er) => seen.push(er) }), tf.tensor2d(bad, [N, D]), y, 2, 7);
    expect(st.skippedSteps).toBe(3); // one batch per epoch holds row 5
    expect(seen.map((er) => er.row)).toEqual([5, 5, 5]);
    expect(Number.isFinite(st.finalTaskLoss)).toBe(true);
    expect(m.variables().every((v) => v.dataSync().every(Number.isFinite))).toBe(true);
  });
});
