import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { dregPenalty } from '@chainz/dreg';
import { Mlp, trainMlp, type MlpConfig } from './mlp';

const base: MlpConfig = { hidden: [6, 5], activation: 'gelu', dreg: null, epochs: 2, batchSize: 8, learningRate: 0.01, weightDecay: 0, validationFraction: 0 };

describe('Mlp with DREG on a standard activation', () => {
  it('gives one trace per hidden layer when DREG is configured (none without), same logits either way, and DREG reaches the loss', () => {
    const x = tf.tensor2d(Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)), [4, 3]);
    const plain = new Mlp(base, 3, 2, 7);
    const withDreg = new Mlp({ ...base, dreg: { lambda: 1 } }, 3, 2, 7);
    const a = plain.forward(x);
    const b = withDreg.forward(x);
    expect(a.traces).toHaveLength(0);
    expect(b.traces.map((t) => t.kernel.shape)).toEqual([[3, 6], [6, 5]]);
    const la = a.logits.dataSync();
    b.logits.dataSync().forEach((v, i) => expect(v).toBeCloseTo(la[i], 6));
    expect(dregPenalty(b.traces, { lambda: 1 }).dataSync()[0]).toBeGreaterThan(0);
    const y = Int32Array.from([0, 1, 0, 1]);
    const stats = trainMlp(withDreg, x, y, 2, 3);
    expect(stats.finalPenalty).toBeGreaterThan(0);
    expect(trainMlp(plain, x, y, 2, 3).finalPenalty).toBe(0);
    plain.dispose();
    withDreg.dispose();
  });
});
