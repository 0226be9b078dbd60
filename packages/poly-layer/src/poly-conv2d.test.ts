import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChainzError, Rng } from '@chainz/core';
import './register';
import { resolvePolyConfig, type PolyGuard } from './config';
import { polyConv2d } from './poly-conv2d';
import { PolyConv2D, registerPolyConv2D } from './poly-conv2d-layer';
import { PolyDense } from './layers';
import { disposeTraces } from './trace';
import { fitPolynomial } from './fit';
import { loadModel, saveModel } from './io';
import { refPolyConv2dSample } from './testing';

const f32 = (rng: Rng, s = 1) => Math.fround(rng.normal() * s);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('polyConv2d', () => {
  for (const guard of ['tanh', 'clip', 'none', 'layernorm'] as PolyGuard[]) {
    it(`${guard}: y, z and σ' match the float64 reference (stride 2, same)`, () => {
      const rng = new Rng(guard.length + 40);
      const cfg = resolvePolyConfig({ guard, basis: 'legendre', degree: 3 });
      const [B, H, W, cIn, cOut, k] = [2, 5, 6, 2, 3, 3];
      const xs = Array.from({ length: B }, () => Array.from({ length: H * W * cIn }, () => f32(rng)));
      const kernel = Array.from({ length: k * k * cIn * cOut }, () => f32(rng, 0.4));
      const bias = Array.from({ length: cOut }, () => f32(rng, 0.3));
      const coeffs = Array.from({ length: cOut }, () => Array.from({ length: 4 }, () => f32(rng, 0.5)));
      const params = { kernel: tf.tensor4d(kernel, [k, k, cIn, cOut]), bias: tf.tensor1d(bias), coeffs: tf.tensor2d(coeffs) };
      const before = tf.memory().numTensors;
      const { y, trace } = polyConv2d(tf.tensor4d(xs.flat(), [B, H, W, cIn]), params, cfg, { strides: 2, padding: 'same', name: 'c1', secondDerivative: true });
      expect(trace).toMatchObject({ kind: 'conv2d', name: 'c1', inputSize: [H, W], strides: [2, 2], padding: 'same', guard });
      expect(y.shape).toEqual([B, 3, 3, cOut]);
      expect(trace.dy.shape).toEqual([B, 3, 3, cOut]);
      expect(trace.d2y!.shape).toEqual([B, 3, 3, cOut]);
      if (guard === 'layernorm') expect(trace.layernorm!.invStd.shape).toEqual([B, 3, 3, 1]);
      const [yv, zv, dv] = [y, trace.z, trace.dy].map((t) => t.dataSync());
      const n = 9 * cOut;
      xs.forEach((x, b) => {
        const ref = refPolyConv2dSample(x, [H, W], { kernel, kernelShape: [k, k, cIn, cOut], bias, coeffs }, cfg, { strides: [2, 2], padding: 'same' });
        for (let i = 0; i < n; i++) {
          expect(zv[b * n + i]).toBeCloseTo(ref.z[i], 5);
          expect(yv[b * n + i]).toBeCloseTo(ref.y[i], 4);
          expect(dv[b * n + i]).toBeCloseTo(ref.dy[i], 4);
        }
      });
      disposeTraces(trace);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before + 1); // only the input x created in the call
      tf.dispose(params);
    });
  }
});

function convModel(): tfl.Sequential {
  const m = tfl.sequential();
  m.add(new PolyConv2D({ filters: 4, kernelSize: 3, strides: 2, inputShape: [8, 8, 3], seed: 1, name: 'pc1', target: 'silu' }));
  m.add(new PolyConv2D({ filters: 5, kernelSize: [3, 2], padding: 'valid', seed: 2, guard: 'layernorm', sharing: 'layer', name: 'pc2' }));
  m.add(tfl.layers.flatten());
  m.add(new PolyDense({ units: 3, seed: 3, name: 'pd' }));
  return m;
}

describe('PolyConv2D layer', () => {
  const x = tf.tensor4d(Array.from({ length: 4 * 8 * 8 * 3 }, (_, i) => Math.sin(i * 0.7)), [4, 8, 8, 3]);

  it('registers as ChainzPolyConv2D, builds kernel/bias/coeffs and initialises the polynomial from the fit', () => {
    expect(tf.serialization.SerializationMap.getMap().classNameMap.ChainzPolyConv2D[0]).toBe(PolyConv2D);
    expect(() => registerPolyConv2D()).not.toThrow();
    const m = convModel();
    expect(m.getLayer('pc1').getWeights().map((w) => w.shape)).toEqual([[3, 3, 3, 4], [4], [4, 4]]);
    expect(m.getLayer('pc2').getWeights().map((w) => w.shape)).toEqual([[3, 2, 4, 5], [5], [1, 4]]);
    expect(m.getLayer('pc1').outputShape).toEqual([null, 4, 4, 4]);
    expect(m.getLayer('pc2').outputShape).toEqual([null, 2, 3, 5]);
    const fit = fitPolynomial('silu', resolvePolyConfig());
    (m.getLayer('pc1').getWeights()[2].arraySync() as number[][]).forEach((row) => row.forEach((v, k) => expect(v).toBeCloseTo(fit.coeffs[k], 5)));
  });

  it('getConfig round-trips and options are validated by name', () => {
    const layer = new PolyConv2D({ filters: 2, kernelSize: [2, 3], strides: [1, 2], padding: 'valid', useBias: false, degree: 4, guard: 'clip', seed: 9 });
    const cfg = layer.getConfig();
    expect(cfg).toMatchObject({ filters: 2, kernelSize: [2, 3], strides: [1, 2], padding: 'valid', useBias: false, degree: 4, guard: 'clip', basis: 'chebyshev' });
    expect(new PolyConv2D(cfg as never).getConfig()).toEqual(cfg);
    expect(() => new PolyConv2D({ filters: 0, kernelSize: 3 })).toThrow(/option filters/);
    expect(() => new PolyConv2D({ filters: 1, kernelSize: 0 })).toThrow(/option kernelSize/);
    expect(() => new PolyConv2D({ filters: 1, kernelSize: 3, padding: 'causal' as never })).toThrow(/option padding/);
    expect(() => new PolyConv2D({ filters: 1, kernelSize: 3 }).apply(tf.zeros([2, 3, 4]))).toThrow(/rank-4/);
  });

  it('refuses to overwrite a foreign class of the same name', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    const saved = map.ChainzPolyConv2D;
    class Foreign extends tf.serialization.Serializable {
      static className = 'ChainzPolyConv2D';
      getConfig() {
        return {};
      }
    }
    tf.serialization.registerClass(Foreign);
    try {
      expect(() => registerPolyConv2D()).toThrow(ChainzError);
    } finally {
      map.ChainzPolyConv2D = saved;
    }
  });

  it('trains with model.fit, then save → load (memory and directory) gives identical predictions', async () => {
    const m = convModel();
    m.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
    const before = (m.getLayer('pc1').getWeights()[0].dataSync() as Float32Array).slice();
    await m.fit(x, tf.zeros([4, 3]), { epochs: 2, batchSize: 2, shuffle: false, verbose: 0 });
    expect(Array.from(m.getLayer('pc1').getWeights()[0].dataSync())).not.toEqual(Array.from(before)); // gradients reached the conv kernel
    let artifacts: tf.io.ModelArtifacts | undefined;
    await m.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(['ChainzPolyConv2D', 'ChainzPolyConv2D', 'Flatten', 'ChainzPolyDense']);
    const a = (m.predict(x) as tf.Tensor).dataSync();
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from(a));
    const dir = await mkdtemp(path.join(tmpdir(), 'chainz-conv-'));
    dirs.push(dir);
    await saveModel(m, dir);
    const again = await loadModel(dir);
    expect(Array.from((again.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from(a));
  });
});
