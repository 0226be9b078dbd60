import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '@chainz/core';
import { PolyActivation, PolyDense, polyDense, type DenseLayerTrace } from '@chainz/poly-layer';
import { attachDreg, detachDreg } from './attach';
import { dregPenalty } from './penalty';
import type { DregOptions } from './options';

const rng = new Rng(5);
const N = 32;
const X = tf.tensor2d(Array.from({ length: N * 3 }, () => rng.normal()), [N, 3]);
const Y = tf.tensor2d(Array.from({ length: N }, (_, i) => [Math.tanh(i / 8 - 2)]), [N, 1]);

function build(): tfl.Sequential {
  const m = tfl.sequential();
  m.add(new PolyDense({ units: 8, inputShape: [3], seed: 1, name: 'p1' }));
  m.add(new PolyDense({ units: 8, seed: 2, guard: 'layernorm', name: 'p2' }));
  m.add(tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }), name: 'out' }));
  m.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
  return m;
}

/** The functional DREG penalty of the model's PolyDense layers on X, with their current weights. */
function functionalPenalty(m: tfl.LayersModel, opts: Partial<DregOptions>): number {
  return tf.tidy(() => {
    let h = X;
    const traces: DenseLayerTrace[] = [];
    for (const layer of m.layers) {
      if (layer instanceof PolyDense) {
        const [kernel, bias, coeffs] = layer.getWeights();
        const r = polyDense(h, { kernel: kernel as tf.Tensor2D, bias: bias as tf.Tensor1D, coeffs: coeffs as tf.Tensor2D }, layer.polyConfig);
        traces.push(r.trace);
        h = r.y;
      }
    }
    return dregPenalty(traces, opts).dataSync()[0];
  });
}

async function fitLoss(m: tfl.LayersModel, epochs: number): Promise<number[]> {
  const h = await m.fit(X, Y, { epochs, batchSize: N, shuffle: false, verbose: 0 });
  return h.history.loss as number[];
}

describe('attachDreg + model.fit', () => {
  it("fit's reported loss includes the penalty: with DREG − without = the functional penalty", async () => {
    const plain = build();
    const withDreg = build();
    const opts = { lambda: 0.5 };
    const p0 = functionalPenalty(withDreg, opts);
    const layers = attachDreg(withDreg, opts);
    expect(layers.map((l) => l.name)).toEqual(['p1', 'p2']);
    const [a] = await fitLoss(plain, 1);
    const [b] = await fitLoss(withDreg, 1);
    expect(p0).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a);
    // one full batch: the first step's loss is computed at the initial (identical) weights
    expect(Math.abs(b - a - p0) / p0).toBeLessThan(1e-4);
    // evaluate() does not include it
    const evalPlain = (plain.evaluate(X, Y) as tf.Scalar).dataSync()[0];
    const evalDreg = (withDreg.evaluate(X, Y) as tf.Scalar).dataSync()[0];
    expect(Math.abs(evalDreg - evalPlain)).toBeLessThan(0.05);
  });

  it('training with DREG decreases the penalty, and more than training without', async () => {
    const plain = build();
    const withDreg = build();
    const opts = { lambda: 2 };
    const p0 = functionalPenalty(withDreg, opts);
    attachDreg(withDreg, opts);
    await fitLoss(plain, 30);
    await fitLoss(withDreg, 30);
    const pDreg = functionalPenalty(withDreg, opts);
    const pPlain = functionalPenalty(plain, opts);
    expect(pDreg).toBeLessThan(0.8 * p0);
    expect(pDreg).toBeLessThan(pPlain);
  });

  it('uses the layer step for λ schedules (warm-up: the first step adds nothing)', async () => {
    const plain = build();
    const warm = build();
    attachDreg(warm, { lambda: { type: 'warmup', value: 1, warmupSteps: 5 } });
    const a = await fitLoss(plain, 3);
    const b = await fitLoss(warm, 3);
    expect(b[0]).toBeCloseTo(a[0], 6);
    expect(b[2]).toBeGreaterThan(a[2]);
  });

  it('detachDreg restores the plain loss; no tensors leak across fit epochs', async () => {
    const m = build();
    attachDreg(m, { curvature: 0.1, layerWeights: [1, 0.5] });
    await fitLoss(m, 1);
    const before = tf.memory().numTensors;
    await fitLoss(m, 2);
    expect(tf.memory().numTensors).toBe(before);
    detachDreg(m);
    const plain = build();
    plain.setWeights(m.getWeights());
    const [a] = await fitLoss(plain, 1);
    const [b] = await fitLoss(m, 1);
    expect(b).toBeCloseTo(a, 6);
  });

  it('rejects the forward variant, wrong layerWeights and models without PolyDense', () => {
    expect(() => attachDreg(build(), { variant: 'forward' })).toThrow(/option variant/);
    expect(() => attachDreg(build(), { layerWeights: [1] })).toThrow(/option layerWeights/);
    const m = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [3] })] });
    expect(() => attachDreg(m)).toThrow(ConfigError);
  });
});

describe('attachDreg with PolyActivation layers', () => {
  function mixed(): tfl.Sequential {
    const m = tfl.sequential();
    m.add(new PolyDense({ units: 4, inputShape: [3], seed: 1, name: 'pd' }));
    m.add(tfl.layers.dense({ units: 4, name: 'd' }));
    m.add(new PolyActivation({ name: 'pa' }));
    m.add(tfl.layers.dense({ units: 1, name: 'out' }));
    return m;
  }

  it('refuses a model whose PolyActivation layers it cannot cover, naming them', () => {
    const m = mixed();
    expect(() => attachDreg(m, { lambda: 0.1 })).toThrow(
      new ConfigError(
        "DREG covers PolyDense and PolyConv2D layers (its penalty needs the layer's weight matrix); PolyActivation layer 'pa' would get none",
        { option: 'model' },
        "use PolyDense in place of Dense + PolyActivation, or attach to the other layers only: attachDreg(model.layers.filter((l) => l.getClassName() !== 'ChainzPolyActivation'), options)",
      ),
    );
    expect(m.layers[0] instanceof PolyDense && (m.layers[0] as PolyDense).getTracePenalty()).toBe(null); // nothing attached
  });

  it('attaches to the layers given and returns exactly those it covers', () => {
    const m = mixed();
    const covered = attachDreg(m.layers.filter((l) => l.getClassName() !== 'ChainzPolyActivation'), { lambda: 0.1 });
    expect(covered.map((l) => l.name)).toEqual(['pd']);
  });
});
