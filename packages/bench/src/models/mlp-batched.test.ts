// Batched training of several folds (mlp-batched.ts) against training them one
// by one with mlpModel(…).run, on Pima folds (the embedded CSV, the pima
// experiment's preprocessing): predictions, τ, epochs, losses equal bit for
// bit — also with unequal fold sizes (padded last batches), folds whose epochs
// have different batch counts and folds that run different numbers of epochs.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { expect, it } from 'vitest';
import { describeBackends } from '@chainz/core/test';
import { fitTabularPreprocessor, pimaAdapter, repeatedStratifiedKFold, takeRows } from '@chainz/data';
import '@chainz/poly-layer';
import { mlpModel, type MlpConfig } from './mlp';
import { batchedTrainingUnsupported, trainMlpFoldsBatched } from './mlp-batched';
import { accuracy, type FitResult, type TabularFold } from './types';
import { TABULAR_MODELS as PIMA_MODELS } from '../experiments/tabular/config';

async function pimaFolds(k: number, count: number): Promise<TabularFold[]> {
  const ds = await pimaAdapter.load({});
  const split = ds.splits.all;
  const x = Float32Array.from(split.features!.dataSync() as Float32Array);
  const d = split.features!.shape[1];
  const y = split.labels;
  ds.dispose();
  return repeatedStratifiedKFold(y, k, 1, 42)
    .slice(0, count)
    .map(({ train, test }) => {
      const pre = fitTabularPreprocessor(takeRows(x, d, train), train.length, d, { impute: 'median', standardize: true });
      return {
        xTrain: pre.transform(takeRows(x, d, train), train.length),
        yTrain: Int32Array.from(train, (i) => y[i]),
        xTest: pre.transform(takeRows(x, d, test), test.length),
        yTest: Int32Array.from(test, (i) => y[i]),
        nFeatures: d,
        nClasses: 2,
      };
    });
}

function comparable(r: FitResult): unknown {
  const { trainSeconds: _t, ...rest } = r;
  return { ...rest, predictions: Array.from(r.predictions) };
}

async function compare(config: MlpConfig, folds: TabularFold[], seeds: number[]): Promise<FitResult[]> {
  const runner = mlpModel('m', 'test model', config);
  expect(runner.runBatch, 'runBatch offered').toBeTypeOf('function');
  const before = tf.memory().numTensors;
  const batched = await runner.runBatch!(folds, seeds);
  expect(tf.memory().numTensors, 'no tensor leak').toBe(before);
  const single: FitResult[] = [];
  for (let i = 0; i < folds.length; i++) single.push(await runner.run(folds[i], seeds[i]));
  expect(batched).toHaveLength(folds.length);
  for (let i = 0; i < folds.length; i++) {
    expect(comparable(batched[i]), `fold ${i}`).toEqual(comparable(single[i]));
    expect(accuracy(batched[i].predictions, folds[i].yTest)).toBe(accuracy(single[i].predictions, folds[i].yTest));
  }
  return batched;
}

describeBackends(['wasm', 'cpu'], ({ name }) => {
  // five Pima folds: 614 or 615 training rows each, so the folds' last batches differ in size
  const short = { epochs: name === 'wasm' ? 4 : 2 };

  it('ChainzRule + DREG (the pima config, fewer epochs): batched = one by one, bit for bit', async () => {
    const folds = await pimaFolds(5, 5);
    await compare({ ...PIMA_MODELS.cr, ...short }, folds, [11, 12, 13, 14, 15]);
  });

  it('ReLU MLP and logistic regression with weight decay: batched = one by one', async () => {
    const folds = await pimaFolds(5, 3);
    await compare({ ...PIMA_MODELS['relu-mlp'], ...short, weightDecay: 1e-3 }, folds, [1, 2, 3]);
    await compare({ ...PIMA_MODELS.logreg, ...short }, folds, [4, 5, 6]);
  });

  it('folds with different batch counts per epoch and different epoch counts (minSteps): batched = one by one', async () => {
    const folds = await pimaFolds(5, 4);
    // ≈ 522/523 rows after the hold-out: 2 or 3 batches of 261 per epoch, so minSteps 9 gives 5 or 3 epochs
    const n = folds.map((f) => f.yTrain.length);
    expect(new Set(n).size).toBeGreaterThan(1);
    const r = await compare({ ...PIMA_MODELS['cr-nodreg'], epochs: 2, batchSize: 261, minSteps: 9 }, folds, [7, 8, 9, 10]);
    const epochs = r.map((x) => x.info?.epochs);
    const steps = r.map((x) => x.info?.steps);
    expect(new Set(epochs).size, `epochs ${epochs}`).toBeGreaterThan(1);
    expect(steps.some((s, i) => s !== 2 * (epochs[i] as number)), `steps ${steps}`).toBe(true); // some fold has 3 batches per epoch
  });
});

it('names what it cannot batch (ordinal head, layernorm guard, DREG variants other than frobenius)', async () => {
  expect(batchedTrainingUnsupported(PIMA_MODELS.cr)).toBeUndefined();
  expect(batchedTrainingUnsupported({ ...PIMA_MODELS.cr, head: 'ordinal' })).toMatch(/ordinal/);
  expect(batchedTrainingUnsupported({ ...PIMA_MODELS.cr, poly: { guard: 'layernorm' } })).toMatch(/layernorm/);
  expect(batchedTrainingUnsupported({ ...PIMA_MODELS.cr, dreg: { variant: 'activation' } })).toMatch(/activation/);
  expect(mlpModel('o', 'ordinal', { ...PIMA_MODELS.cr, head: 'ordinal' }).runBatch).toBeUndefined();
  await expect(trainMlpFoldsBatched(PIMA_MODELS.cr, [], [1])).rejects.toThrow(/0 folds but 1 seeds/);
});
