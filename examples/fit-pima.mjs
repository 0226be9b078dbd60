// A ChainzRule MLP built from tfjs-layers PolyDense layers, trained with DREG
// through model.fit(), saved to disk and loaded back.
//
//   pnpm build && node examples/fit-pima.mjs [epochs] [--keep]
//
// epochs: a positive integer (default 30). The saved model goes to a temporary
// folder that is removed at the end unless --keep is given.
//
// Uses the Pima data embedded in @chainz/data: one stratified 80/20 split,
// median imputation + standardisation fitted on the training part only.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveBackend } from '@chainz/core';
import { PolyDense, saveModel, loadModel } from '@chainz/poly-layer';
import { attachDreg } from '@chainz/dreg';
import { pimaAdapter, stratifiedKFold, fitTabularPreprocessor, takeRows } from '@chainz/data';

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const positional = args.filter((a) => a !== '--keep');
const epochs = positional.length === 0 ? 30 : Number(positional[0]);
if (positional.length > 1 || !Number.isInteger(epochs) || epochs < 1) {
  console.error(`usage: node examples/fit-pima.mjs [epochs] [--keep]  (epochs: a positive integer; got ${positional.join(' ')})`);
  process.exit(2);
}
const backend = await resolveBackend(process.env.CHAINZ_BACKEND || 'wasm');
console.log(`backend: ${backend.name}`);

// Data: 768 × 8 raw features (NaN = missing), labels 0/1.
const ds = await pimaAdapter.load();
const x = Float32Array.from(ds.splits.all.features.dataSync());
const y = ds.splits.all.labels;
ds.dispose();
const [{ train, test }] = stratifiedKFold(y, 5, 0); // first of 5 folds: 80/20
const pre = fitTabularPreprocessor(takeRows(x, 8, train), train.length, 8);
const tensors = (idx) => [
  tf.tensor2d(pre.transform(takeRows(x, 8, idx), idx.length), [idx.length, 8]),
  tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(idx, (i) => y[i]), 'int32'), 2), 'float32'),
];
const [xTrain, yTrain] = tensors(train);
const [xTest, yTest] = tensors(test);

// Model: 8 → PolyDense(32) → PolyDense(32) → Dense(2, softmax). Each PolyDense is a
// dense layer followed by a learnable cubic (tanh guard), initialised to GELU.
const model = tfl.sequential({
  layers: [
    new PolyDense({ units: 32, inputShape: [8], seed: 1, target: 'gelu' }),
    new PolyDense({ units: 32, seed: 2, target: 'gelu' }),
    tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
  ],
});
attachDreg(model, { variant: 'frobenius', lambda: 10 ** -2.5 }); // fit's reported loss now includes the penalty
model.compile({ optimizer: tf.train.adam(3e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
// shuffle: false — fit's own shuffle uses Math.random; the split above is already seeded.
const history = await model.fit(xTrain, yTrain, { epochs, batchSize: 64, shuffle: false, verbose: 0 });
const losses = history.history.loss;
console.log(`training loss (CE + DREG): ${losses[0].toFixed(4)} → ${losses[losses.length - 1].toFixed(4)} over ${epochs} epochs`);

const [, acc] = model.evaluate(xTest, yTest);
console.log(`test accuracy: ${(100 * (await acc.data())[0]).toFixed(2)}% (${test.length} rows)`);

// Save atomically to a folder (model.json + weights) and load it back.
const tmp = mkdtempSync(path.join(tmpdir(), 'chainz-example-'));
const dir = path.join(tmp, 'model');
await saveModel(model, dir);
const loaded = await loadModel(dir);
const a = model.predict(xTest), b = loaded.predict(xTest);
const maxDiff = (await tf.max(tf.abs(tf.sub(a, b))).data())[0];
console.log(`saved to ${dir}${keep ? '' : ' (removed at exit; --keep keeps it)'}; reloaded predictions differ by at most ${maxDiff}`);
if (!keep) rmSync(tmp, { recursive: true, force: true });
if (maxDiff !== 0) process.exitCode = 1;
