import * as tf from '@tensorflow/tfjs-core';
import { Rng, dense } from '@chainz/core';
import {
  conv2d,
  conv2dGeometry,
  initPolyCoefficients,
  polyConv2d,
  resolvePolyConfig,
  type Conv2dPadding,
  type LayerTrace,
  type PolyConfig,
  type TargetActivation,
} from '@chainz/poly-layer';
import type { TrainableClassifier } from './train';

/** One convolutional layer of a {@link Cnn}. */
export interface CnnConvSpec {
  /** Output channels. */
  filters: number;
  /** Square kernel size. */
  kernel: number;
  /** Stride (both axes). */
  stride: number;
  /** `'same'` or `'valid'`. */
  padding: Conv2dPadding;
}

/** A small CNN: conv layers (each followed by the activation), then flatten and one dense layer to the classes. */
export interface CnnConfig {
  convs: CnnConvSpec[];
  /** Hidden activation: `poly` = ChainzRule per-channel polynomial (PolyConv2D), or a standard one. */
  activation: 'poly' | 'relu' | 'gelu';
  /** Polynomial activation settings (activation `poly` only). */
  poly?: Partial<PolyConfig>;
  /** Target the polynomial is initialised to (least-squares fit). */
  polyInit?: TargetActivation;
}

interface ConvParams {
  kernel: tf.Variable;
  bias: tf.Variable;
  coeffs?: tf.Variable;
  spec: CnnConvSpec;
}

/** Glorot-uniform values for a weight with the given fans, from the seeded Rng. */
function glorot(rng: Rng, shape: number[], fanIn: number, fanOut: number): tf.Tensor {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (2 * rng.next() - 1) * limit;
  return tf.tensor(v, shape);
}

function gelu(z: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))));
}

/**
 * A small convolutional classifier for 32×32×3 images: conv layers with the
 * ChainzRule polynomial activation (functional `polyConv2d`, DREG traces) or
 * ReLU/GELU, then flatten and a dense layer to the logits. Convolutions use
 * `@chainz/poly-layer`'s `conv2d` (trainable on the wasm backend). Weights are
 * Glorot-uniform from a seeded `Rng`, biases 0, polynomial coefficients fitted to
 * `polyInit` (default GELU).
 */
export class Cnn implements TrainableClassifier {
  readonly convs: ConvParams[] = [];
  readonly out: { kernel: tf.Variable; bias: tf.Variable };
  readonly polyConfig: PolyConfig | null;
  /** Also compute σ'' in the forward pass (DREG curvature). */
  secondDerivative = false;

  /**
   * @param inputShape `[H, W, C]` of one example.
   * @param nOut number of classes.
   * @param seed initialiser seed.
   */
  constructor(readonly config: CnnConfig, readonly inputShape: [number, number, number], nOut: number, seed: number) {
    const rng = new Rng(seed);
    this.polyConfig = config.activation === 'poly' ? resolvePolyConfig(config.poly ?? {}) : null;
    let [H, W, C] = inputShape;
    for (const spec of config.convs) {
      const kshape = [spec.kernel, spec.kernel, C, spec.filters];
      const w = tf.tidy(() => ({
        kernel: tf.variable(glorot(rng, kshape, spec.kernel * spec.kernel * C, spec.kernel * spec.kernel * spec.filters), true),
        bias: tf.variable(tf.zeros([spec.filters]), true),
      }));
      const p: ConvParams = { ...w, spec };
      if (this.polyConfig) {
        const cfg = this.polyConfig;
        p.coeffs = tf.tidy(() => tf.variable(initPolyCoefficients(spec.filters, config.polyInit ?? 'gelu', cfg).coeffs, true));
      }
      this.convs.push(p);
      const g = conv2dGeometry([H, W], [spec.kernel, spec.kernel], spec.stride, spec.padding);
      [H, W, C] = [g.h.out, g.w.out, spec.filters];
    }
    const flat = H * W * C;
    this.out = tf.tidy(() => ({ kernel: tf.variable(glorot(rng, [flat, nOut], flat, nOut), true), bias: tf.variable(tf.zeros([nOut]), true) }));
  }

  variables(): tf.Variable[] {
    return [...this.convs.flatMap((p) => [p.kernel, p.bias, ...(p.coeffs ? [p.coeffs] : [])]), this.out.kernel, this.out.bias];
  }

  kernels(): tf.Variable[] {
    return [...this.convs.map((p) => p.kernel), this.out.kernel];
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.variables().reduce((s, v) => s + v.size, 0);
  }

  /** `x` `[B, H, W, C]` → logits `[B, classes]`, and one Conv2dLayerTrace per polynomial conv layer. */
  forward(x: tf.Tensor): { logits: tf.Tensor2D; traces: LayerTrace[] } {
    const traces: LayerTrace[] = [];
    let h = x as tf.Tensor4D;
    this.convs.forEach((p, l) => {
      const opts = { strides: p.spec.stride, padding: p.spec.padding };
      if (this.polyConfig && p.coeffs) {
        const r = polyConv2d(h, { kernel: p.kernel as tf.Tensor4D, bias: p.bias as tf.Tensor1D, coeffs: p.coeffs as tf.Tensor2D }, this.polyConfig, {
          ...opts,
          name: `conv${l + 1}`,
          secondDerivative: this.secondDerivative,
        });
        traces.push(r.trace);
        h = r.y;
      } else {
        const z = conv2d(h, p.kernel as tf.Tensor4D, p.bias as tf.Tensor1D, opts);
        h = (this.config.activation === 'gelu' ? gelu(z) : tf.relu(z)) as tf.Tensor4D;
      }
    });
    const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
    return { logits: dense(flat, this.out.kernel as tf.Tensor2D, this.out.bias as tf.Tensor1D), traces };
  }

  dispose(): void {
    tf.dispose(this.variables());
  }
}
