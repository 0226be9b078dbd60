// A test plugin: one synthetic tabular data set (three Gaussian blobs in 4-D,
// 300 rows), generated from a fixed seed, so it needs no file.
import * as tf from '@tensorflow/tfjs-core';
import { defineAdapter } from '@chainz/data';

function mulberry32(a) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const blobsAdapter = defineAdapter({
  name: 'test-blobs',
  describe: () => ({ name: 'test-blobs', title: 'Three Gaussian blobs (synthetic, 300 rows)', task: 'classification', source: 'generated in memory (seed 1)', builtIn: false, modality: 'tabular' }),
  async load() {
    const rand = mulberry32(1);
    const n = 300, d = 4;
    const x = new Float32Array(n * d);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 3;
      for (let j = 0; j < d; j++) {
        const u = Math.max(rand(), 1e-12), v = rand();
        x[i * d + j] = (j === y[i] ? 3 : 0) + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      }
    }
    const features = tf.tensor2d(x, [n, d]);
    return {
      name: 'test-blobs',
      task: 'classification',
      splits: { all: { features, labels: y } },
      classNames: ['a', 'b', 'c'],
      featureNames: ['x1', 'x2', 'x3', 'x4'],
      provenance: { files: ['generated'], sha256: ['0'.repeat(64)], source: 'synthetic', licence: 'public domain', rows: { all: n } },
      dispose: () => features.dispose(),
    };
  },
});

export default { name: 'test-blobs-plugin', adapters: [blobsAdapter] };
