import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChainzError, ConfigError, DataError } from '@chainz/core';
import { PolyActivation, PolyDense, registerPolyLayers } from './layers';
import './register';
import { loadModel, saveModel } from './io';
import { fitPolynomial } from './fit';
import { resolvePolyConfig } from './config';

function buildModel(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(new PolyDense({ units: 6, inputShape: [4], seed: 1, guard: 'layernorm', basis: 'chebyshev', degree: 4, target: 'silu', name: 'pd1' }));
  model.add(new PolyDense({ units: 5, seed: 2, sharing: 'layer', target: 'tanh', name: 'pd2' }));
  model.add(tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
  model.add(new PolyActivation({ guard: 'clip', scale: 2, target: 'relu', name: 'pa' }));
  return model;
}

const x = tf.tensor2d(Array.from({ length: 8 * 4 }, (_, i) => Math.sin(i * 1.3) * 2), [8, 4]);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('PolyActivation / PolyDense layers', () => {
  it('register under project-unique class names', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    expect(map.ChainzPolyActivation[0]).toBe(PolyActivation);
    expect(map.ChainzPolyDense[0]).toBe(PolyDense);
    expect(() => registerPolyLayers()).not.toThrow(); // idempotent
  });

  it('refuses to overwrite a foreign class registered under the same name', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    const saved = map.ChainzPolyDense;
    class Foreign extends tf.serialization.Serializable {
      static className = 'ChainzPolyDense';
      getConfig() {
        return {};
      }
    }
    tf.serialization.registerClass(Foreign);
    try {
      expect(() => registerPolyLayers()).toThrow(ChainzError);
    } finally {
      map.ChainzPolyDense = saved;
    }
  });

  it('initialise coefficients from the fit to the target and build the right weights', () => {
    const model = buildModel();
    const pd1 = model.getLayer('pd1') as PolyDense;
    expect(pd1.getWeights().map((w) => w.shape)).toEqual([[4, 6], [6], [6, 5]]);
    const fit = fitPolynomial('silu', resolvePolyConfig({ guard: 'layernorm', basis: 'chebyshev', degree: 4 }));
    expect(pd1.fitReport!.rmse).toBeCloseTo(fit.rmse, 12);
    const c = pd1.getWeights()[2].arraySync() as number[][];
    c.forEach((row) => row.forEach((v, k) => expect(v).toBeCloseTo(fit.coeffs[k], 5)));
    const pd2 = model.getLayer('pd2') as PolyDense;
    expect(pd2.getWeights()[2].shape).toEqual([1, 4]);
    const pa = model.getLayer('pa') as PolyActivation;
    expect(pa.getWeights()[0].shape).toEqual([3, 4]);
    expect(model.predict(x)).toBeInstanceOf(tf.Tensor);
  });

  it('getConfig round-trips through fromConfig', () => {
    const layer = new PolyDense({ units: 3, degree: 5, basis: 'legendre', guard: 'clip', scale: 1.5, sharing: 'layer', target: 'leakyRelu', fitDomain: [-2, 2], useBias: false, seed: 7 });
    const cfg = layer.getConfig();
    expect(cfg).toMatchObject({ units: 3, degree: 5, basis: 'legendre', guard: 'clip', scale: 1.5, sharing: 'layer', target: 'leakyRelu', fitDomain: [-2, 2], useBias: false });
    expect(cfg.kernelInitializer).toMatchObject({ className: 'VarianceScaling', config: { mode: 'fanAvg', distribution: 'uniform', seed: 7 } });
    const again = new PolyDense(cfg as never);
    expect(again.getConfig()).toEqual(cfg);
    expect(() => new PolyDense({ units: 0 })).toThrow(/option units/);
    expect(() => new PolyActivation({ guard: 'sine' as never })).toThrow(/option guard/);
    expect(() => new PolyActivation({ target: 'mish' as never })).toThrow(/option target/);
  });

  it('model.save(withSaveHandler) → loadLayersModel(fromMemory) gives identical predictions', async () => {
    const model = buildModel();
    model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
    await model.fit(x, tf.zeros([8, 3]), { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(['ChainzPolyDense', 'ChainzPolyDense', 'Dense', 'ChainzPolyActivation']);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('saveModel / loadModel write atomically to a directory and reload identical predictions', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chainz-poly-'));
    dirs.push(dir);
    const model = buildModel();
    await saveModel(model, dir);
    const files1 = (await readdir(dir)).sort();
    expect(files1).toHaveLength(2);
    expect(files1[0]).toBe('model.json');
    expect(files1[1]).toMatch(/^weights\.[0-9a-f]{16}\.bin$/);
    const loaded = await loadModel(dir);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));

    // re-saving changed weights replaces the weights file; no temp files remain
    const w = model.getLayer('pd2').getWeights();
    model.getLayer('pd2').setWeights([tf.mul(w[0], 2), w[1], w[2]]);
    await saveModel(model, dir);
    const files2 = (await readdir(dir)).sort();
    expect(files2).toHaveLength(2);
    expect(files2[1]).not.toBe(files1[1]);
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual([files2[1]]);
    const reloaded = await loadModel(dir);
    expect(Array.from((reloaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  });

  it('loadModel names the file at fault', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chainz-poly-'));
    dirs.push(dir);
    await expect(loadModel(dir)).rejects.toThrow(/model\.json/);
    await writeFile(path.join(dir, 'model.json'), '{ not json');
    await expect(loadModel(dir)).rejects.toBeInstanceOf(DataError);
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['missing.bin'], weights: [] }] }));
    await expect(loadModel(dir)).rejects.toThrow(/missing\.bin/);
  });

  it('PolyDense rejects rank-3 input with a ShapeError', () => {
    const layer = new PolyDense({ units: 2 });
    expect(() => layer.apply(tf.zeros([2, 3, 4]))).toThrow(/rank-2/);
  });
});

describe('options tfjs Dense has but a polynomial layer handles differently', () => {
  const xs = tf.tensor2d(Array.from({ length: 6 * 3 }, (_, i) => Math.cos(i * 0.7)), [6, 3]);
  const ys = tf.tensor2d(Array.from({ length: 6 }, (_, i) => [i % 2]), [6, 1]);
  async function firstLoss(args: Record<string, unknown>): Promise<{ loss: number; kernel: tf.Tensor }> {
    const m = tfl.sequential();
    const layer = new PolyDense({ units: 4, inputShape: [3], seed: 1, ...args } as ConstructorParameters<typeof PolyDense>[0]);
    m.add(layer);
    m.add(tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.ones() }));
    m.compile({ optimizer: tf.train.sgd(0), loss: 'meanSquaredError' });
    const kernel = layer.getWeights()[0].clone();
    const h = await m.fit(xs, ys, { epochs: 1, batchSize: 6, shuffle: false, verbose: 0 });
    return { loss: (h.history.loss as number[])[0], kernel };
  }

  it('kernelRegularizer and biasRegularizer join the training loss (l2(1): + Σ W²)', async () => {
    const plain = await firstLoss({});
    const l2 = await firstLoss({ kernelRegularizer: tfl.regularizers.l2({ l2: 1 }) });
    const sumSq = tf.sum(tf.square(plain.kernel)).dataSync()[0];
    expect(l2.loss - plain.loss).toBeCloseTo(sumSq, 4);
    // identifiers and serialized forms work too, and survive getConfig → fromConfig
    const byName = new PolyDense({ units: 2, kernelRegularizer: 'l1l2', biasRegularizer: { className: 'L1L2', config: { l1: 0, l2: 0.5 } } });
    const cfg = byName.getConfig();
    expect(cfg.kernelRegularizer).toEqual({ className: 'L1L2', config: { l1: 0.01, l2: 0.01 } });
    expect(cfg.biasRegularizer).toEqual({ className: 'L1L2', config: { l1: 0, l2: 0.5 } });
    const back = PolyDense.fromConfig(PolyDense, cfg) as PolyDense;
    expect(back.getConfig().biasRegularizer).toEqual(cfg.biasRegularizer);
  });

  it("activation other than 'linear' is refused with the reason (the polynomial is the activation)", () => {
    expect(() => new PolyDense({ units: 2, activation: 'relu' } as never)).toThrow(
      new ConfigError(
        "ChainzPolyDense has no separate activation: its polynomial σ is the activation (initialised to `target`); got 'relu'",
        { option: 'activation' },
        "leave activation out (or 'linear'), choose the function σ starts from with target, or add an activation layer after it",
      ),
    );
    expect(() => new PolyDense({ units: 2, activation: 'linear' } as never)).not.toThrow();
    expect(() => new PolyActivation({ activation: 'relu' } as never)).toThrow(/option activation: ChainzPolyActivation has no separate activation/);
  });

  it('other options tfjs layers take but these do not are refused by name, unknown ones too', () => {
    expect(() => new PolyDense({ units: 2, kernelConstraint: 'nonNeg' } as never)).toThrow(/option kernelConstraint: not supported by ChainzPolyDense/);
    expect(() => new PolyDense({ units: 2, inputDim: 3 } as never)).toThrow(/option inputDim: not supported by ChainzPolyDense \(use inputShape: \[d_in\]\)/);
    expect(() => new PolyDense({ units: 2, unitz: 3 } as never)).toThrow(/option unitz: unknown option of ChainzPolyDense \(valid: /);
    expect(() => new PolyActivation({ kernelRegularizer: 'l1l2' } as never)).toThrow(/option kernelRegularizer: unknown option of ChainzPolyActivation/);
  });
});

describe('PolyConv2D options', () => {
  it('takes kernelRegularizer (a layer loss) and refuses activation / unknown options by name', async () => {
    const { PolyConv2D } = await import('./poly-conv2d-layer');
    const layer = new PolyConv2D({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1], seed: 1, kernelRegularizer: tfl.regularizers.l2({ l2: 1 }) });
    const m = tfl.sequential({ layers: [layer] });
    const k = layer.getWeights()[0];
    const reg = tf.tidy(() => tf.addN((layer as unknown as { losses: (() => tf.Scalar)[] }).losses.map((f) => f())).dataSync()[0]);
    expect(reg).toBeCloseTo(tf.sum(tf.square(k)).dataSync()[0], 4);
    expect(layer.getConfig().kernelRegularizer).toEqual({ className: 'L1L2', config: { l1: 0, l2: 1 } });
    expect(() => new PolyConv2D({ filters: 2, kernelSize: 3, activation: 'relu' } as never)).toThrow(/option activation: ChainzPolyConv2D has no separate activation/);
    expect(() => new PolyConv2D({ filters: 2, kernelSize: 3, dilationRate: 2 } as never)).toThrow(/option dilationRate: unknown option of ChainzPolyConv2D/);
  });
});
