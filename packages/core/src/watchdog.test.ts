import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, NonFiniteError } from './errors';
import { NonFiniteWatchdog, nonFiniteFlag, nonFiniteRows, watchModelFit, type WatchedVariable } from './watchdog';

afterEach(() => vi.restoreAllMocks());

/** A two-layer toy model: h = tanh(x·W1), ŷ = h·W2; returns its variables and a loss closure. */
function toy(seed = 1) {
  const W1 = tf.variable(tf.randomNormal([3, 4], 0, 0.5, 'float32', seed), true);
  const W2 = tf.variable(tf.randomNormal([4, 1], 0, 0.5, 'float32', seed + 1), true);
  const vars: WatchedVariable[] = [
    { variable: W1, layer: 'hidden', tensor: 'kernel' },
    { variable: W2, layer: 'out', tensor: 'kernel' },
  ];
  const z1 = (x: tf.Tensor2D) => tf.matMul(x, W1);
  const forward = (x: tf.Tensor2D) => tf.matMul(tf.tanh(z1(x)), W2);
  const loss = (x: tf.Tensor2D, y: tf.Tensor2D) => () => tf.mean(tf.square(tf.sub(forward(x), y))) as tf.Scalar;
  return { W1, W2, vars, z1, forward, loss, dispose: () => tf.dispose([W1, W2]) };
}

const x = tf.tensor2d([[1, 2, 3], [0.5, -1, 2], [3, 0, -1], [1, 1, 1]]);
const y = tf.tensor2d([[1], [0], [1], [0]]);
const errorOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as NonFiniteError;
  }
  throw new Error('did not throw');
};

describe('nonFiniteFlag', () => {
  it('is 0 for finite tensors (even near the float32 limit) and NaN as soon as one element is NaN or ±Inf', () => {
    const big = tf.tensor1d([3e38, -3e38, 1e-45]);
    expect(nonFiniteFlag([big, tf.scalar(1)]).dataSync()[0]).toBe(0); // 3e38 − 3e38 + … stays finite
    expect(nonFiniteFlag([big, tf.tensor1d([1, Infinity])]).dataSync()[0]).toBeNaN();
    expect(nonFiniteFlag([tf.tensor1d([-Infinity])]).dataSync()[0]).toBeNaN();
    expect(nonFiniteFlag([tf.tensor2d([[0, NaN]])]).dataSync()[0]).toBeNaN();
    expect(nonFiniteRows(tf.tensor2d([[0, 1], [NaN, 1], [2, 2], [1, -Infinity]]))).toEqual([1, 3]);
  });
});

describe('NonFiniteWatchdog.minimize (hand-written steps)', () => {
  it('a finite step is exactly optimizer.minimize: same weights, no tensor left behind', () => {
    const a = toy();
    const b = toy();
    const optA = tf.train.adam(0.1);
    const optB = tf.train.adam(0.1);
    const dog = new NonFiniteWatchdog();
    for (let s = 0; s < 3; s++) {
      const before = tf.memory().numTensors;
      const loss = dog.minimize(optA, a.loss(x, y), a.vars);
      loss.dispose();
      if (s > 0) expect(tf.memory().numTensors).toBe(before);
      optB.minimize(b.loss(x, y), false, [b.W1, b.W2]);
    }
    expect(Array.from(a.W1.dataSync())).toEqual(Array.from(b.W1.dataSync()));
    expect(Array.from(a.W2.dataSync())).toEqual(Array.from(b.W2.dataSync()));
    expect(dog.steps).toBe(3);
    a.dispose();
    b.dispose();
  });

  it('a NaN in one input row: throws at that step naming the batch row and the data row; no update applied', () => {
    const m = toy();
    const dog = new NonFiniteWatchdog();
    const opt = tf.train.sgd(0.1);
    dog.minimize(opt, m.loss(x, y), m.vars).dispose();
    const bad = tf.tensor2d([[1, 2, 3], [0.5, -1, 2], [3, NaN, -1], [1, 1, 1]]);
    const w1 = Array.from(m.W1.dataSync());
    const e = errorOf(() => dog.minimize(opt, m.loss(bad, y), m.vars, { x: bad, rows: [40, 41, 42, 43] }));
    expect(e).toBeInstanceOf(NonFiniteError);
    expect(e.message).toBe('step 1: the input holds NaN or ±Infinity in batch row 2 (data row 42)');
    expect([e.code, e.kind, e.tensorName, e.step, e.row, e.rows]).toEqual(['E_NONFINITE', 'input', 'x', 1, 42, [42]]);
    expect(e.hint).toBe('remove or impute the non-finite values in the data');
    expect(Array.from(m.W1.dataSync())).toEqual(w1);
    m.dispose();
  });

  it('an overflowing layer: names the first layer whose activation is not finite, and the row', () => {
    const m = toy();
    const dog = new NonFiniteWatchdog();
    const xs = tf.tensor2d([[1, 2, 3], [1e5, -2e5, 3e5], [3, 0, -1], [1, 1, 1]]);
    // layer 'hidden': z = 1e34·(x·W1) overflows for row 1 only; the loss then is Inf/NaN
    const z = () => tf.mul(m.z1(xs), 1e34);
    const f = () => tf.mean(tf.square(z())) as tf.Scalar;
    const e = errorOf(() =>
      dog.minimize(tf.train.sgd(0.1), f, m.vars, {
        activations: () => [
          { layer: 'input scaling', tensor: 'x', value: xs },
          { layer: 'hidden', tensor: 'pre-activation z', value: z() },
          { layer: 'hidden', tensor: 'output', value: tf.tanh(z()) },
        ],
      }),
    );
    expect(e.kind).toBe('activation');
    expect(e.message).toMatch(/^step 0: pre-activation z of layer 'hidden' is not finite \([1-4] ±Infinity of 16 values; first in batch row 1\)$/);
    expect([e.layer, e.row]).toEqual(['hidden', 1]);
    m.dispose();
  });

  it('a non-finite loss names the part of the loss at fault', () => {
    const m = toy();
    const dog = new NonFiniteWatchdog();
    const task = tf.scalar(0.5);
    const penalty = tf.scalar(Infinity);
    const e = errorOf(() =>
      dog.minimize(tf.train.sgd(0.1), () => tf.add(tf.mul(tf.sum(m.W1), 0), penalty) as tf.Scalar, m.vars, {
        lossParts: [
          { tensor: 'task loss', value: task },
          { tensor: 'DREG penalty', value: penalty },
        ],
      }),
    );
    expect(e.message).toBe('step 0: the loss is not finite (Infinity; task loss 0.5, DREG penalty Infinity)');
    expect([e.kind, e.tensorName]).toEqual(['loss', 'DREG penalty']);
    m.dispose();
  });

  it('a non-finite gradient with a finite loss names the layer and the tensor', () => {
    const m = toy();
    m.W1.assign(tf.zeros([3, 4]));
    const dog = new NonFiniteWatchdog();
    const e = errorOf(() => dog.minimize(tf.train.sgd(0.1), () => tf.sum(tf.sqrt(tf.abs(m.W1))) as tf.Scalar, m.vars));
    expect(e.message).toBe("step 0: gradient ∂loss/∂kernel of layer 'hidden' is not finite (12 ±Infinity of 12 values)");
    expect([e.kind, e.layer, e.tensorName]).toEqual(['gradient', 'hidden', '∂loss/∂kernel']);
    m.dispose();
  });

  it("'skip-step' reports and skips the update; 'warn' reports and applies it", () => {
    for (const policy of ['skip-step', 'warn'] as const) {
      const m = toy();
      const seen: NonFiniteError[] = [];
      const dog = new NonFiniteWatchdog({ policy, onNonFinite: (e) => seen.push(e) });
      const bad = tf.tensor2d([[1, 2, 3], [0.5, -1, 2], [3, NaN, -1], [1, 1, 1]]);
      const w1 = Array.from(m.W1.dataSync());
      dog.minimize(tf.train.sgd(0.1), m.loss(bad, y), m.vars, { x: bad }).dispose();
      expect(seen.map((e) => e.kind)).toEqual(['input']);
      expect([dog.steps, dog.skipped, dog.warnings]).toEqual([1, policy === 'skip-step' ? 1 : 0, 1]);
      const after = Array.from(m.W1.dataSync());
      if (policy === 'skip-step') expect(after).toEqual(w1);
      else expect(after.some(Number.isNaN)).toBe(true);
      // warn: the weights are now NaN; the next step names them
      if (policy === 'warn') {
        dog.minimize(tf.train.sgd(0.1), m.loss(x, y), m.vars).dispose();
        expect(seen[1].message).toMatch(/^step 1: weight kernel of layer 'hidden' is not finite \(12 NaN of 12 values\): the update of step 0 produced it$/);
        expect(() => dog.checkWeights(m.vars)).not.toThrow();
        expect(seen[2].kind).toBe('weight');
      }
      m.dispose();
    }
  });

  it('the default report is one console.warn line; an unknown policy is refused', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const m = toy();
    const dog = new NonFiniteWatchdog({ policy: 'skip-step' });
    const bad = tf.tensor2d([[NaN, 2, 3], [0.5, -1, 2], [3, 1, -1], [1, 1, 1]]);
    dog.minimize(tf.train.sgd(0.1), m.loss(bad, y), m.vars, { x: bad }).dispose();
    expect(warn.mock.calls).toEqual([['chainz: step 0: the input holds NaN or ±Infinity in batch row 0']]);
    expect(() => new NonFiniteWatchdog({ policy: 'ignore' as never })).toThrow(ConfigError);
    m.dispose();
  });
});

describe('watchModelFit (tfjs-layers model.fit)', () => {
  function model() {
    const m = tfl.sequential();
    m.add(tfl.layers.dense({ units: 4, inputShape: [3], activation: 'tanh', name: 'h1', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }));
    m.add(tfl.layers.dense({ units: 1, name: 'out', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
    m.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    return m;
  }

  it('a finite fit gives the same weights as an unwatched one', async () => {
    const a = model();
    const b = model();
    const guard = watchModelFit(a, { x });
    await a.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false, verbose: 0, callbacks: [guard] });
    await b.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false, verbose: 0 });
    a.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(b.getWeights()[i].dataSync())));
    expect(guard.watchdog.steps).toBe(6);
    // the optimiser is given back its own minimize after fit
    expect(Object.hasOwn(a.optimizer, 'minimize')).toBe(false);
  });

  it('a NaN input row: fit rejects before the first step, naming the row', async () => {
    const m = model();
    const bad = tf.tensor2d([[1, 2, 3], [0.5, -1, 2], [3, 0, -1], [1, NaN, 1]]);
    const w = m.getWeights().map((t) => Array.from(t.dataSync()));
    const e = await m.fit(bad, y, { epochs: 1, batchSize: 4, verbose: 0, callbacks: [watchModelFit(m, { x: bad })] }).catch((err: unknown) => err as NonFiniteError);
    expect(e).toBeInstanceOf(NonFiniteError);
    expect((e as NonFiniteError).message).toBe('before step 0: the input holds NaN or ±Infinity in row 3');
    expect(m.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(w);
  });

  it('without x: the first bad batch stops fit, naming the layer weights tfjs-layers uses', async () => {
    const m = model();
    const bad = tf.tensor2d([[1, 2, 3], [0.5, -1, 2], [3, 0, -1], [1, Infinity, 1]]);
    const e = (await m.fit(bad, y, { epochs: 1, batchSize: 4, verbose: 0, callbacks: [watchModelFit(m)] }).catch((err: unknown) => err)) as NonFiniteError;
    expect(e).toBeInstanceOf(NonFiniteError);
    // tanh saturates: the loss stays finite, the first layer's gradient does not
    expect(e.message).toMatch(/^step 0: gradient ∂loss\/∂kernel of layer 'h1' is not finite/);
    expect(m.getWeights().every((t) => t.dataSync().every(Number.isFinite))).toBe(true);
  });
});

describe('a flag raised only because finite values sum beyond float32', () => {
  it('is looked at and let through: no report, the update applied', () => {
    const v = tf.variable(tf.tensor1d([1, 0]), true);
    const dog = new NonFiniteWatchdog();
    // loss 3e38·Σv = 3e38 and gradient [3e38, 3e38]: all finite, but their sum overflows float32
    dog.minimize(tf.train.sgd(1e-40), () => tf.mul(tf.sum(v), 3e38) as tf.Scalar, [v]).dispose();
    expect(dog.steps).toBe(1);
    expect(Array.from(v.dataSync()).every(Number.isFinite)).toBe(true);
    expect(dog.checkWeights([tf.variable(tf.tensor1d([3e38, 3e38]))])).toBe(true);
  });
});
