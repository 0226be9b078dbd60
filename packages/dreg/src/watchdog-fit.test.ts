import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { NonFiniteError, Rng, watchModelFit } from '@chainz/core';
import { PolyDense, type PolyGuard } from '@chainz/poly-layer';
import { attachDreg } from './attach';

// The non-finite watchdog on the model.fit + attachDreg path (the faults it exists for).
function build(guard: PolyGuard, layers = 2): tfl.Sequential {
  const m = tfl.sequential();
  for (let l = 0; l < layers; l++) m.add(new PolyDense({ units: 8, ...(l === 0 ? { inputShape: [4] } : {}), seed: l + 1, guard, name: `p${l + 1}` }));
  m.add(tfl.layers.dense({ units: 1, name: 'out', kernelInitializer: tfl.initializers.glorotUniform({ seed: 9 }) }));
  m.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  attachDreg(m, { lambda: 0.1 });
  return m;
}
const rng = new Rng(4);
const N = 16;
const xs = (scale: number) => tf.tensor2d(Array.from({ length: N * 4 }, () => rng.normal() * scale), [N, 4]);
const ys = tf.tensor2d(Array.from({ length: N }, (_, i) => [i % 2]), [N, 1]);
const finiteWeights = (m: tfl.LayersModel) => m.getWeights().every((w) => w.dataSync().every(Number.isFinite));

describe('watchModelFit with attachDreg', () => {
  for (const guard of ['tanh', 'clip', 'layernorm', 'none'] as PolyGuard[]) {
    it(`${guard}: one NaN in one input row stops fit before any update, naming the row (unwatched, every weight turns NaN)`, async () => {
      const x = xs(1);
      const bad = tf.tensor2d(x.arraySync().map((r, i) => (i === 11 ? [r[0], NaN, r[2], r[3]] : r)));
      if (guard !== 'none') {
        // ('none' has its own first-call check of the activation, which throws a NumericError)
        const plain = build(guard);
        await plain.fit(bad, ys, { epochs: 1, batchSize: N, shuffle: false, verbose: 0 });
        expect(finiteWeights(plain)).toBe(false);
      }

      const m = build(guard);
      const e = (await m.fit(bad, ys, { epochs: 1, batchSize: N, shuffle: false, verbose: 0, callbacks: [watchModelFit(m, { x: bad })] }).catch((err: unknown) => err)) as NonFiniteError;
      expect(e).toBeInstanceOf(NonFiniteError);
      expect([e.kind, e.row, e.message]).toEqual(['input', 11, 'before step 0: the input holds NaN or ±Infinity in row 11']);
      expect(finiteWeights(m)).toBe(true);
    });
  }

  it("guard 'none', |x| ~ 1e3, three layers: the step that overflows throws, naming step and cause; the weights stay finite", async () => {
    const x = xs(1e3);
    const plain = build('none', 3);
    await plain.fit(x, ys, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
    expect(finiteWeights(plain)).toBe(false); // unwatched: NaN weights, no error
    const m = build('none', 3);
    const e = (await m.fit(x, ys, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0, callbacks: [watchModelFit(m, { x })] }).catch((err: unknown) => err)) as NonFiniteError;
    expect(e).toBeInstanceOf(NonFiniteError);
    // the layer outputs are finite but reach ~1e24: their squared error overflows float32
    expect(e.message).toMatch(
      /^step 0: the loss is not finite \(Infinity\); every layer's output on the training inputs is finite \(the model's output up to \d\.\d\de\+2\d in magnitude\), so the loss overflows: the task loss of outputs that large, or a loss the layers add \(a regularizer, the DREG penalty\)$/,
    );
    expect([e.kind, e.step]).toEqual(['loss', 0]);
    expect(finiteWeights(m)).toBe(true);
  });

  it('a layer whose output overflows is named, with the rows', async () => {
    const r = new Rng(11);
    const x = tf.tensor2d(Array.from({ length: N * 4 }, () => r.normal()), [N, 4]);
    const m = tfl.sequential();
    m.add(new PolyDense({ units: 8, inputShape: [4], seed: 1, guard: 'none', name: 'p1' }));
    m.add(new PolyDense({ units: 8, seed: 2, guard: 'none', name: 'p2' }));
    m.add(new PolyDense({ units: 8, seed: 3, guard: 'none', name: 'p3' }));
    m.add(tfl.layers.dense({ units: 1, name: 'out', kernelInitializer: tfl.initializers.glorotUniform({ seed: 9 }) }));
    m.compile({ optimizer: tf.train.sgd(1e3), loss: 'meanSquaredError' }); // a learning rate that blows the weights up
    const e = (await m.fit(x, ys, { epochs: 3, batchSize: N, shuffle: false, verbose: 0, callbacks: [watchModelFit(m, { x })] }).catch((err: unknown) => err)) as NonFiniteError;
    expect(e).toBeInstanceOf(NonFiniteError);
    // step 0's update makes the weights huge; at step 1 the third layer's output overflows
    expect(e.message).toMatch(/^step 1: the loss is not finite \(NaN\); on the training inputs the output of layer 'p3' is the first that is not finite \(\d+ ±Infinity of 128 values; rows [\d, ]+\)$/);
    expect([e.kind, e.layer, e.tensorName, e.step, e.row]).toEqual(['activation', 'p3', 'output', 1, 0]);
    expect(finiteWeights(m)).toBe(true);
  });

  it("'skip-step' keeps training past a bad batch with the weights of before it", async () => {
    const x = xs(1);
    const bad = tf.tensor2d(x.arraySync().map((r, i) => (i === 3 ? [Infinity, r[1], r[2], r[3]] : r)));
    const m = build('tanh');
    const seen: NonFiniteError[] = [];
    const guard = watchModelFit(m, { policy: 'skip-step', onNonFinite: (er: NonFiniteError) => seen.push(er) });
    await m.fit(bad, ys, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0, callbacks: [guard] });
    expect(guard.watchdog.steps).toBe(4);
    expect(guard.watchdog.skipped).toBe(2); // the first batch of each epoch holds row 3
    expect(seen.every((er) => er.step === 0 || er.step === 2)).toBe(true);
    expect(finiteWeights(m)).toBe(true);
  });
});
