import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, ShapeError } from '@chainz/core';
import { inputGradientNorms } from './gradient-norms';
import { gradientTailRatio } from './tail-ratio';
import { perSampleCrossEntropy, tauForModel } from './tau-model';

const rng = new Rng(9);
const N = 40;
const x = tf.tensor2d(Array.from({ length: N * 5 }, () => rng.normal()), [N, 5]);
const y = Int32Array.from({ length: N }, (_, i) => i % 3);

function model(activation: 'softmax' | 'linear', units = 3): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.dense({ units: 7, inputShape: [5], activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tfl.layers.dense({ units, activation, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
  return m;
}

/** Reference: the norms of ∂ℓ_i/∂x_i with ℓ written out from the logits (the same weights, softmax removed). */
function referenceNorms(logitsModel: tfl.LayersModel): Float32Array {
  return inputGradientNorms((xb: tf.Tensor2D, start) => {
    const logits = logitsModel.apply(xb) as tf.Tensor2D;
    const lse = tf.logSumExp(logits, 1);
    const picked = tf.sum(tf.mul(logits, tf.oneHot(tf.tensor1d(y.subarray(start, start + xb.shape[0]), 'int32'), 3)), 1);
    return tf.sub(lse, picked) as tf.Tensor1D;
  }, x, { batchSize: 16 });
}

describe('tauForModel: one-call τ for a LayersModel', () => {
  it('softmax outputs (auto-detected) and logits give the τ of the written-out cross-entropy', () => {
    const probs = model('softmax');
    const logits = model('linear');
    const ref = referenceNorms(logits);
    const before = tf.memory().numTensors;
    const a = tauForModel(probs, x, y, { batchSize: 16 });
    const b = tauForModel(logits, x, tf.oneHot(tf.tensor1d(y, 'int32'), 3));
    expect(tf.memory().numTensors).toBe(before + 2); // only the one-hot tensor and its label tensor made here
    expect(a.outputs).toBe('probabilities');
    expect(b.outputs).toBe('logits');
    for (let i = 0; i < N; i++) {
      expect(Math.abs(a.norms[i] - ref[i])).toBeLessThan(1e-5 * (1 + ref[i]));
      expect(Math.abs(b.norms[i] - ref[i])).toBeLessThan(1e-5 * (1 + ref[i]));
    }
    expect(a.tau).toBeCloseTo(gradientTailRatio(ref), 4);
    expect(b.tau).toBeCloseTo(gradientTailRatio(ref), 4);
    expect(tauForModel(probs, x, y, { q: 1 }).tau).toBeCloseTo(Math.max(...ref) / (ref.reduce((s, v) => s + v, 0) / N), 4);
  });

  it('perSampleCrossEntropy is −log p(y|x) per row', () => {
    const probs = model('softmax');
    const l = perSampleCrossEntropy(probs, x, y).dataSync();
    const p = (probs.predict(x) as tf.Tensor2D).arraySync();
    for (let i = 0; i < N; i++) expect(l[i]).toBeCloseTo(-Math.log(p[i][y[i]]), 5);
  });

  it('binary: one sigmoid output', () => {
    const m = model('linear', 1);
    const yb = Int32Array.from({ length: N }, (_, i) => i % 2);
    const l = perSampleCrossEntropy(m, x, yb).dataSync();
    const z = (m.predict(x) as tf.Tensor2D).dataSync();
    for (let i = 0; i < N; i++) expect(l[i]).toBeCloseTo(Math.log1p(Math.exp(-z[i])) + (1 - yb[i]) * z[i], 5);
    expect(Number.isFinite(tauForModel(m, x, yb).tau)).toBe(true);
  });

  it('refuses labels and shapes that do not fit, naming them', () => {
    const m = model('softmax');
    expect(() => tauForModel(m, x, y.subarray(1))).toThrow(new ShapeError('y has 39 labels for 40 rows of x', { tensor: 'y' }));
    expect(() => tauForModel(m, x, Int32Array.from(y, (v) => v + 1))).toThrow(ConfigError);
    expect(() => tauForModel(m, x, y, { outputs: 'odds' as never })).toThrow(/outputs must be 'auto', 'probabilities' or 'logits'/);
  });
});
