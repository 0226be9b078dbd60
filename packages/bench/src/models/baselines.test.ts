import { describe, expect, it } from 'vitest';
import { Rng } from '@chainz/core';
import { majorityModel } from './majority';
import { svmRbfModel } from './svm';
import { xgboostModel } from './xgboost';
import { accuracy, type TabularFold } from './types';

/** Two Gaussian blobs in 4-d, separable with margin. */
function blobs(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3 === 0 ? 1 : 0;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = rng.normal() * 0.7 + (y[i] ? 1.5 : -1.5) * (j < 2 ? 1 : 0);
  }
  return { x, y };
}

function fold(): TabularFold {
  const tr = blobs(120, 1), te = blobs(60, 2);
  return { xTrain: tr.x, yTrain: tr.y, xTest: te.x, yTest: te.y, nFeatures: 4, nClasses: 2 };
}

describe('baseline models', () => {
  it('majority predicts the most frequent training class', async () => {
    const f = fold();
    const r = await majorityModel().run(f, 0);
    expect(new Set(r.predictions)).toEqual(new Set([0]));
    expect(accuracy(r.predictions, f.yTest)).toBeCloseTo(40 / 60, 6);
  });

  it('svm-rbf separates two blobs and is deterministic', async () => {
    const f = fold();
    const a = await svmRbfModel().run(f, 0);
    const b = await svmRbfModel().run(f, 1);
    expect(accuracy(a.predictions, f.yTest)).toBeGreaterThan(0.9);
    expect(Array.from(a.predictions)).toEqual(Array.from(b.predictions));
    expect(a.tau).toBeNull();
  });

  it('xgboost separates two blobs and is reproducible for a seed', async () => {
    const f = fold();
    const a = await xgboostModel({ iterations: 20 }).run(f, 7);
    const b = await xgboostModel({ iterations: 20 }).run(f, 7);
    expect(accuracy(a.predictions, f.yTest)).toBeGreaterThan(0.9);
    expect(Array.from(a.predictions)).toEqual(Array.from(b.predictions));
  });
});

describe('MLP on a tiny training part', () => {
  it('one row per class: no validation hold-out (it would empty the training set), finite predictions, said in info', async () => {
    const { mlpModel } = await import('./mlp');
    const { TABULAR_MODELS } = await import('../experiments/tabular/config');
    const te = blobs(30, 2);
    const f: TabularFold = { xTrain: Float32Array.from([-1.5, -1.5, 0, 0, 1.5, 1.5, 0, 0]), yTrain: Int32Array.from([0, 1]), xTest: te.x, yTest: te.y, nFeatures: 4, nClasses: 2 };
    expect(TABULAR_MODELS['relu-mlp'].validationFraction).toBeGreaterThan(0);
    const r = await mlpModel('relu-mlp', 'tiny', { ...TABULAR_MODELS['relu-mlp'], epochs: 3 }).run(f, 0);
    expect(r.predictions).toHaveLength(30);
    expect(Number.isFinite(r.tau!)).toBe(true);
    expect(r.info?.validation).toMatch(/^none: a class has < 2 training rows/);
  });
});
