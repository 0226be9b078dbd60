// Fused kernels on WebGPU (Dawn on Mesa llvmpipe in Node): the WGSL shaders
// against the composite op on the same backend and float64 references, for
// every guard and basis (degree 3 per-channel, degree 6 shared: each shader
// compiles on llvmpipe, so the matrix is smaller than on cpu/wasm), the dense
// Jacobian-norm kernel, and no tensor leak over 30 training steps (100 on
// cpu/wasm). float32 arithmetic in the shaders, hence looser tolerances
// than on cpu/wasm (whose loops run in float64).
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { Rng, dense } from '@chainz/core';
import { describeBackends } from '@chainz/core/test';
import '../register';
import { resolvePolyConfig } from '../config';
import { polyDense } from '../poly-dense';
import { initPolyCoefficients } from '../fit';
import { POLY_ACTIVATION } from './names';
import { denseJacobianFrobenius, hasFusedKernels } from './ops';
import { declareDenseJacobianParity, declareJacobianParity, declareLargeTanhParity, declarePolyKernelParity, declareWeightedSumParity } from './parity-suite';

describeBackends(['webgpu'], ({ name }) => {
  it('has the fused kernels registered', () => {
    expect(hasFusedKernels(name)).toBe(true);
  });

  declarePolyKernelParity([3, 6], { reference: 3e-5, composite: 1e-4 }, [5, 7]);
  declareJacobianParity(2e-6);
  declareDenseJacobianParity(1e-4);
  declareLargeTanhParity(1e-4, () => false);
  declareWeightedSumParity(false);

  it('no tensor leak over 30 training steps of a ChainzRule MLP with the fused DREG penalty (fused kernels run)', async () => {
    const rng = new Rng(9);
    const cfg = resolvePolyConfig({});
    const x = tf.randomNormal([16, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
    const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: 16 }, () => rng.int(3)), 'int32'), 3);
    const w = (i: number, o: number) => tf.variable(tf.randomNormal([i, o], 0, 0.4, 'float32', i * o)) as tf.Variable<tf.Rank.R2>;
    const p1 = { kernel: w(6, 8), bias: tf.variable(tf.zeros([8])) as tf.Variable<tf.Rank.R1>, coeffs: tf.variable(initPolyCoefficients(8, 'gelu', cfg).coeffs) };
    const p2 = { kernel: w(8, 8), bias: tf.variable(tf.zeros([8])) as tf.Variable<tf.Rank.R1>, coeffs: tf.variable(initPolyCoefficients(8, 'gelu', cfg).coeffs) };
    const out = w(8, 3);
    const opt = tf.train.adam(0.01);
    const step = () =>
      opt.minimize(() => {
        const l1 = polyDense(x, p1, cfg, { jacobianNorm: true }); // ‖J‖_F² from the activation kernel
        const l2 = polyDense(l1.y, p2, cfg);
        const task = tf.losses.softmaxCrossEntropy(y, dense(l2.y, out));
        const pen = tf.add(tf.mean(l1.trace.jacobianFrobenius!), tf.mean(denseJacobianFrobenius(l2.trace.dy, p2.kernel))); // and from the separate kernel
        return tf.add(task, tf.mul(pen, 1e-2)) as tf.Scalar;
      }, true) as tf.Scalar;
    const profile = await tf.profile(() => step().dispose());
    expect(profile.kernels.map((k) => k.name)).toContain(POLY_ACTIVATION);
    const losses: number[] = [];
    const counts: number[] = [];
    for (let s = 0; s < 30; s++) {
      const loss = step();
      losses.push((await loss.data())[0]);
      loss.dispose();
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    expect(losses[29]).toBeLessThan(losses[0]);
    opt.dispose();
    tf.dispose([x, y, out, ...Object.values(p1), ...Object.values(p2)]);
  });
});
