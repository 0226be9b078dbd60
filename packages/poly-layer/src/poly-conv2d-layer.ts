import { TracePenaltyRecorder, type TracePenaltyNeeds } from './trace-penalty';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers.js';
import type { Regularizer } from '@tensorflow/tfjs-layers/dist/regularizers.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { ConfigError, ShapeError } from '@chainz/core';
import type { PolyConfig } from './config';
import { fitPolynomial, type PolyFit } from './fit';
import { conv2dGeometry, normalizePadding, normalizeStrides, type Conv2dPadding } from './conv2d';
import { polyConv2d } from './poly-conv2d';
import type { Conv2dLayerTrace } from './trace';
import type { TargetActivation } from './targets';
import {
  CHAINZ_LAYER,
  DEFAULT_LAYER_TARGET,
  checkLayerArgs,
  checkTarget,
  resolveRegularizer,
  serializeRegularizer,
  type RegularizerSpec,
  exactlyOne,
  fittedInitializer,
  pickPolyConfig,
  resolveInitializer,
  type PolyDenseArgs,
  type PolyLayerCommonArgs,
  registerChainzLayerClass,
  type TracePenalty,
} from './layers';

/** Arguments of {@link PolyConv2D}. */
export interface PolyConv2DArgs extends PolyLayerCommonArgs {
  /** Output channels C_out. */
  filters: number;
  /** Kernel size, a number or `[kh, kw]`. */
  kernelSize: number | [number, number];
  /** Stride, a number or `[s_h, s_w]`. Default 1. */
  strides?: number | [number, number];
  /** `'same'` (default) or `'valid'`. */
  padding?: Conv2dPadding;
  /** Add a bias b (default true). */
  useBias?: boolean;
  /**
   * Kernel initializer, as for PolyDense: an initializer object, an identifier
   * (`'glorotUniform'`, `'heNormal'`, …) or `{ className, config }`. Default:
   * Glorot-uniform (fan-in kh·kw·C_in, fan-out kh·kw·C_out), seeded with `seed`.
   */
  kernelInitializer?: PolyDenseArgs['kernelInitializer'];
  /** Seed of the default kernel initializer. */
  seed?: number;
  /** Penalty on the kernel added to the training loss, as PolyDense's. Default none. */
  kernelRegularizer?: RegularizerSpec;
  /** Penalty on the bias added to the training loss, as PolyDense's. Default none. */
  biasRegularizer?: RegularizerSpec;
}

function kernelPair(v: unknown): [number, number] {
  const k = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : null;
  if (!k || !k.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ConfigError(`must be a positive integer or a pair of them, got ${JSON.stringify(v)}`, { option: 'kernelSize' });
  }
  return [k[0], k[1]];
}

/**
 * 2-D convolution followed by a learnable per-channel polynomial activation
 * (docs/poly-layer.md): y = σ_c(conv(x, K) + b), channels last. Weights `kernel`
 * `[kh, kw, C_in, filters]`, `bias` `[filters]`, `coeffs` `[filters, K+1]` (or
 * `[1, K+1]`), the coefficients initialised by a least-squares fit to `target`.
 * Input `[B, H, W, C_in]`; output `[B, H', W', filters]`.
 *
 * The convolution is `@chainz/poly-layer`'s `conv2d`, whose backward pass works on
 * every backend (tfjs 4.22's wasm backend cannot train `tf.conv2d`). Like
 * {@link PolyDense}, a {@link TracePenalty} can be attached
 * (`setTracePenalty`, used by `@chainz/dreg`'s `attachDreg`): in training calls its
 * value on the layer's {@link Conv2dLayerTrace} joins the loss through `addLoss`.
 *
 * Serialised as `'ChainzPolyConv2D'` (registered on import of the package).
 * @throws ConfigError for invalid options (named).
 */
export class PolyConv2D extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'ChainzPolyConv2D';
  static readonly [CHAINZ_LAYER] = true;
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Conv2dPadding;
  readonly useBias: boolean;
  readonly polyConfig: PolyConfig;
  readonly target: TargetActivation;
  readonly fitDomain?: [number, number];
  fitReport?: PolyFit;
  private readonly kernelInitializer: Initializer;
  private readonly kernelRegularizer?: Regularizer;
  private readonly biasRegularizer?: Regularizer;
  private kernel?: tfl.LayerVariable;
  private bias?: tfl.LayerVariable;
  private coeffs?: tfl.LayerVariable;
  private readonly penalty = new TracePenaltyRecorder<Conv2dLayerTrace>();

  constructor(args: PolyConv2DArgs) {
    checkLayerArgs('ChainzPolyConv2D', args, ['filters', 'kernelSize', 'strides', 'padding', 'useBias', 'kernelInitializer', 'seed', 'kernelRegularizer', 'biasRegularizer']);
    super(args);
    if (!Number.isInteger(args?.filters) || args.filters < 1) {
      throw new ConfigError(`must be a positive integer, got ${JSON.stringify(args?.filters)}`, { option: 'filters' });
    }
    this.filters = args.filters;
    this.kernelSize = kernelPair(args.kernelSize);
    this.strides = normalizeStrides(args.strides);
    this.padding = normalizePadding(args.padding);
    this.useBias = args.useBias ?? true;
    this.polyConfig = pickPolyConfig(args);
    this.target = checkTarget(args.target ?? DEFAULT_LAYER_TARGET);
    this.fitDomain = args.fitDomain;
    this.kernelInitializer = resolveInitializer(args.kernelInitializer, args.seed);
    this.kernelRegularizer = resolveRegularizer(args.kernelRegularizer, 'kernelRegularizer');
    this.biasRegularizer = resolveRegularizer(args.biasRegularizer, 'biasRegularizer');
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const cIn = shape[3];
    if (shape.length !== 4 || cIn == null) {
      throw new ShapeError(`layer '${this.name}' needs rank-4 input [B, H, W, C_in] with known C_in, got [${shape}]`, { tensor: this.name });
    }
    this.kernel = this.addWeight('kernel', [this.kernelSize[0], this.kernelSize[1], cIn, this.filters], 'float32', this.kernelInitializer, this.kernelRegularizer, true);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros(), this.biasRegularizer, true);
    const rows = this.polyConfig.sharing === 'channel' ? this.filters : 1;
    this.fitReport = fitPolynomial(this.target, this.polyConfig, this.fitDomain ? { domain: this.fitDomain } : {});
    this.coeffs = this.addWeight('coeffs', [rows, this.polyConfig.degree + 1], 'float32', fittedInitializer(this.fitReport), undefined, true);
    this.addLoss(() => this.penalty.take());
    this.built = true;
  }

  /**
   * Attaches (or with `null` detaches) a penalty evaluated on this layer's forward
   * trace during training calls.
   * @param penalty the penalty, or null.
   * @param opts `secondDerivative`: the penalty needs `trace.d2y`.
   */
  setTracePenalty(penalty: TracePenalty<Conv2dLayerTrace> | null, opts: TracePenaltyNeeds = {}): void {
    this.penalty.set(penalty, opts);
  }

  /** The attached trace penalty, if any. */
  getTracePenalty(): TracePenalty<Conv2dLayerTrace> | null {
    return this.penalty.get();
  }

  private params(): { kernel: tf.Tensor4D; bias?: tf.Tensor1D; coeffs: tf.Tensor2D } {
    return {
      kernel: this.kernel!.read() as tf.Tensor4D,
      bias: this.bias ? (this.bias.read() as tf.Tensor1D) : undefined,
      coeffs: this.coeffs!.read() as tf.Tensor2D,
    };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = exactlyOne(inputs, this.name) as tf.Tensor4D;
    if (x.rank !== 4) throw new ShapeError(`layer '${this.name}' needs rank-4 input [B, H, W, C_in], got [${x.shape}]`, { tensor: this.name });
    const training = kwargs != null && kwargs['training'] === true;
    const opts = { strides: this.strides, padding: this.padding, name: this.name };
    if (!this.penalty.active(training)) return tf.tidy(() => polyConv2d(x, this.params(), this.polyConfig, opts).y);
    // Training with a penalty: no tidy, the trace stays on fit's gradient scope.
    const { y, trace } = polyConv2d(x, this.params(), this.polyConfig, { ...opts, secondDerivative: this.penalty.requirements.secondDerivative });
    this.penalty.record(trace);
    return y;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const [B, H, W] = shape;
    if (H == null || W == null) return [B, null, null, this.filters];
    const g = conv2dGeometry([H, W], this.kernelSize, this.strides, this.padding);
    return [B, g.h.out, g.w.out, this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    const init = this.kernelInitializer as unknown as { getClassName?: () => string; getConfig?: () => tf.serialization.ConfigDict };
    const config: tf.serialization.ConfigDict = {
      filters: this.filters,
      kernelSize: [this.kernelSize[0], this.kernelSize[1]],
      strides: [this.strides[0], this.strides[1]],
      padding: this.padding,
      useBias: this.useBias,
      ...this.polyConfig,
      target: this.target,
    };
    if (init.getClassName && init.getConfig) config.kernelInitializer = { className: init.getClassName(), config: init.getConfig() };
    if (this.kernelRegularizer) config.kernelRegularizer = serializeRegularizer(this.kernelRegularizer)!;
    if (this.biasRegularizer) config.biasRegularizer = serializeRegularizer(this.biasRegularizer)!;
    if (this.fitDomain) config.fitDomain = [this.fitDomain[0], this.fitDomain[1]];
    return { ...config, ...super.getConfig() };
  }
}

/**
 * Registers {@link PolyConv2D} with tfjs's serialization registry (idempotent;
 * runs on import of the package).
 * @throws ChainzError `E_TFJS_DUPLICATE` if a foreign class holds the name `'ChainzPolyConv2D'`.
 */
export function registerPolyConv2D(): void {
  registerChainzLayerClass(PolyConv2D);
}
