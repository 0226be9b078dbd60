import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@chainz/core';
import { inputGradientNorms, inputGradientNormsAsync } from '@chainz/metrics';
import { Mlp, trainMlp, trainMlpAsync, type MlpConfig } from './mlp';

const CONFIG: MlpConfig = {
  hidden: [6, 6],
  activation: 'poly',
  poly: {},
  polyInit: 'gelu',
  dreg: { variant: 'frobenius', lambda: 1e-2 },
  epochs: 3,
  batchSize: 16,
  learningRate: 0.01,
  weightDecay: 1e-4,
  validationFraction: 0,
};

describe('asynchronous training and prediction (for WebGPU in Node)', () => {
  it('trainMlpAsync / predictAsync / inputGradientNormsAsync give exactly what the synchronous versions give', async () => {
    const rng = new Rng(4);
    const n = 45;
    const x = tf.tensor2d(Float32Array.from({ length: n * 5 }, () => rng.normal()), [n, 5]);
    const y = Int32Array.from({ length: n }, () => rng.int(3));
    const xv = tf.tensor2d(Float32Array.from({ length: 12 * 5 }, () => rng.normal()), [12, 5]);
    const yv = Int32Array.from({ length: 12 }, () => rng.int(3));
    const before = tf.memory().numTensors;
    const a = new Mlp(CONFIG, 5, 3, 7);
    const b = new Mlp(CONFIG, 5, 3, 7);
    const sa = trainMlp(a, x, y, 3, 11, { x: xv, y: yv });
    const sb = await trainMlpAsync(b, x, y, 3, 11, { x: xv, y: yv });
    expect(sb).toEqual(sa);
    const wa = a.variables().map((v) => Array.from(v.dataSync()));
    const wb = b.variables().map((v) => Array.from(v.dataSync()));
    expect(wb).toEqual(wa);
    expect(Array.from(await b.predictAsync(xv))).toEqual(Array.from(a.predict(xv)));
    const yOh = tf.tidy(() => tf.oneHot(tf.tensor1d(yv, 'int32'), 3));
    const loss = (xb: tf.Tensor2D, start: number) => a.perSampleLoss(xb, tf.slice(yOh, [start, 0], [xb.shape[0], 3]) as tf.Tensor2D);
    expect(Array.from(await inputGradientNormsAsync(loss, xv, { batchSize: 5 }))).toEqual(Array.from(inputGradientNorms(loss, xv, { batchSize: 5 })));
    a.dispose();
    b.dispose();
    yOh.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, xv]);
  });

  it('the ordinal head trains identically with synchronous and asynchronous reads', async () => {
    const rng = new Rng(9);
    const n = 40;
    const x = tf.tensor2d(Float32Array.from({ length: n * 4 }, () => rng.normal()), [n, 4]);
    const y = Int32Array.from({ length: n }, () => rng.int(5));
    const cfg: MlpConfig = { ...CONFIG, head: 'ordinal', validationFraction: 0 };
    const a = new Mlp(cfg, 4, 5, 3);
    const b = new Mlp(cfg, 4, 5, 3);
    expect(await trainMlpAsync(b, x, y, 5, 2)).toEqual(trainMlp(a, x, y, 5, 2));
    expect(Array.from(await b.predictAsync(x))).toEqual(Array.from(a.predict(x)));
    a.dispose();
    b.dispose();
    x.dispose();
  });
});
