import { TracePenaltyRecorder, type TracePenalty, type TracePenaltyNeeds } from './trace-penalty';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers.js';
import type { Regularizer } from '@tensorflow/tfjs-layers/dist/regularizers.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { ChainzError, ConfigError, ShapeError } from '@chainz/core';
import { resolvePolyConfig, type PolyConfig } from './config';
import { fitPolynomial, type PolyFit } from './fit';
import { polyActivation } from './activation';
import { polyDense } from './poly-dense';
import type { DenseLayerTrace, LayerTrace } from './trace';
import { TARGET_ACTIVATIONS, type TargetActivation } from './targets';

/** Target activation of a new layer when none is given: GELU, the smooth ReLU. */
export const DEFAULT_LAYER_TARGET: TargetActivation = 'gelu';

/** Marks our layer classes in tfjs's class registry (tells a duplicate copy of this module from a foreign class). */
export const CHAINZ_LAYER = Symbol.for('chainz.polyLayer.class');

/** Arguments shared by {@link PolyActivation} and {@link PolyDense}. */
export interface PolyLayerCommonArgs extends LayerArgs, Partial<PolyConfig> {
  /** Activation the coefficients are fitted to at build time (default `'gelu'`). */
  target?: TargetActivation;
  /** Interval of z for that fit (default [−3, 3]). */
  fitDomain?: [number, number];
}

/** Arguments of {@link PolyActivation}. */
export type PolyActivationArgs = PolyLayerCommonArgs;

/** Arguments of {@link PolyDense}. */
export interface PolyDenseArgs extends PolyLayerCommonArgs {
  /** Output features d_out. */
  units: number;
  /** Add a bias b (default true). */
  useBias?: boolean;
  /**
   * Kernel initializer: a tfjs-layers initializer object, an identifier such as
   * `'glorotUniform'` / `'heNormal'`, or a serialized `{ className, config }`.
   * Default: Glorot-uniform (seeded with `seed` when given).
   */
  kernelInitializer?: Initializer | string | { className: string; config: tf.serialization.ConfigDict };
  /** Seed of the default kernel initializer. */
  seed?: number;
  /**
   * Penalty on the kernel added to the training loss (as tfjs Dense): a
   * regularizer object (`tfl.regularizers.l2({ l2: 1e-4 })`), the identifier
   * `'l1l2'`, or a serialized `{ className, config }`. Default none.
   */
  kernelRegularizer?: RegularizerSpec;
  /** Penalty on the bias added to the training loss, as `kernelRegularizer`. Default none. */
  biasRegularizer?: RegularizerSpec;
}

/** A tfjs-layers regularizer, its identifier, or its serialized form. */
export type RegularizerSpec = Regularizer | string | { className: string; config: tf.serialization.ConfigDict };

export type { TracePenalty, TracePenaltyNeeds } from './trace-penalty';

/** Keys of tfjs-layers' `LayerArgs` (accepted by every layer), and those its deserialisation adds. */
const LAYER_ARG_KEYS = ['inputShape', 'batchInputShape', 'batchSize', 'dtype', 'name', 'trainable', 'weights', 'inputDType', 'customObjects', 'fastWeightInit'];
const POLY_ARG_KEYS = ['degree', 'basis', 'guard', 'scale', 'sharing', 'target', 'fitDomain'];

/** Why an option tfjs's own layers take is refused (shown in the error). */
const NOT_SUPPORTED: Record<string, string> = {
  inputDim: 'use inputShape: [d_in]',
  activityRegularizer: 'tfjs-layers cannot train with activity regularizers',
  kernelConstraint: 'constraints are not applied by this layer',
  biasConstraint: 'constraints are not applied by this layer',
  biasInitializer: 'the bias starts at 0',
};

/**
 * Checks a layer's constructor arguments: every key must be a tfjs `LayerArgs`
 * key, a polynomial option or one of `own`; an `activation` other than
 * `'linear'` is refused (the polynomial is the activation), as are tfjs
 * options this layer does not implement. JavaScript callers get an error
 * instead of a silently ignored option.
 * @throws ConfigError naming the option.
 */
export function checkLayerArgs(className: string, args: object | undefined, own: readonly string[]): void {
  if (args == null) return;
  const valid = new Set([...LAYER_ARG_KEYS, ...POLY_ARG_KEYS, ...own]);
  const shown = [...valid].filter((k) => k !== 'customObjects' && k !== 'fastWeightInit').sort();
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined || valid.has(key)) continue;
    if (key === 'activation') {
      if (value === null || value === 'linear') continue;
      throw new ConfigError(
        `${className} has no separate activation: its polynomial σ is the activation (initialised to \`target\`); got ${JSON.stringify(value)}`.replace(/"/g, "'"),
        { option: 'activation' },
        "leave activation out (or 'linear'), choose the function σ starts from with target, or add an activation layer after it",
      );
    }
    if (Object.hasOwn(NOT_SUPPORTED, key) && own.includes('kernelInitializer')) {
      throw new ConfigError(`not supported by ${className} (${NOT_SUPPORTED[key]})`, { option: key });
    }
    throw new ConfigError(`unknown option of ${className} (valid: ${shown.join(', ')})`, { option: key });
  }
}

/** Resolves a {@link RegularizerSpec} (undefined = none). @throws ConfigError naming `option`. */
export function resolveRegularizer(spec: RegularizerSpec | undefined | null, option: string): Regularizer | undefined {
  if (spec == null) return undefined;
  if (typeof spec === 'object' && typeof (spec as Regularizer).apply === 'function') return spec as Regularizer;
  let className: string;
  let config: tf.serialization.ConfigDict = {};
  if (typeof spec === 'string') {
    className = spec === 'l1l2' ? 'L1L2' : spec;
  } else if (typeof spec === 'object' && typeof (spec as { className?: unknown }).className === 'string') {
    className = (spec as { className: string }).className;
    config = (spec as { config?: tf.serialization.ConfigDict }).config ?? {};
  } else {
    throw new ConfigError(`must be a regularizer, 'l1l2' or { className, config }, got ${JSON.stringify(spec)}`, { option });
  }
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) throw new ConfigError(`unknown regularizer ${JSON.stringify(className)}`, { option });
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config) as unknown as Regularizer;
}

/** `{ className, config }` of a regularizer, for getConfig. */
export function serializeRegularizer(r: Regularizer | undefined): tf.serialization.ConfigDict | undefined {
  return r === undefined ? undefined : { className: r.getClassName(), config: r.getConfig() };
}

export function pickPolyConfig(args: Partial<PolyConfig>): PolyConfig {
  const partial: Partial<PolyConfig> = {};
  if (args.degree !== undefined) partial.degree = args.degree;
  if (args.basis !== undefined) partial.basis = args.basis;
  if (args.guard !== undefined) partial.guard = args.guard;
  if (args.scale !== undefined) partial.scale = args.scale;
  if (args.sharing !== undefined) partial.sharing = args.sharing;
  return resolvePolyConfig(partial);
}

export function checkTarget(target: unknown): TargetActivation {
  if (typeof target !== 'string' || !(TARGET_ACTIVATIONS as readonly string[]).includes(target)) {
    throw new ConfigError(`unknown target activation ${JSON.stringify(target)} (valid: ${TARGET_ACTIVATIONS.join(', ')})`, { option: 'target' });
  }
  return target as TargetActivation;
}

/** A tfjs-layers initializer (duck-typed: `addWeight` only calls `apply`) returning fitted coefficients. */
export function fittedInitializer(fit: PolyFit): Initializer {
  return {
    apply: (shape: number[]) => {
      const [rows, cols] = shape;
      const values = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) values.set(fit.coeffs, r * cols);
      return tf.tensor2d(values, [rows, cols]);
    },
  } as unknown as Initializer;
}

export function resolveInitializer(spec: PolyDenseArgs['kernelInitializer'], seed: number | undefined): Initializer {
  if (spec === undefined) return tfl.initializers.glorotUniform({ seed });
  if (typeof spec === 'object' && spec !== null && typeof (spec as Initializer).apply === 'function') return spec as Initializer;
  let className: string;
  let config: tf.serialization.ConfigDict = {};
  if (typeof spec === 'string') {
    className = spec.charAt(0).toUpperCase() + spec.slice(1);
    if (seed !== undefined) config = { seed };
  } else {
    className = (spec as { className: string }).className;
    config = (spec as { config: tf.serialization.ConfigDict }).config ?? {};
  }
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) throw new ConfigError(`unknown initializer ${JSON.stringify(className)}`, { option: 'kernelInitializer' });
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config) as unknown as Initializer;
}

export function exactlyOne(inputs: tf.Tensor | tf.Tensor[], layer: string): tf.Tensor {
  if (!Array.isArray(inputs)) return inputs;
  if (inputs.length !== 1) throw new ShapeError(`layer '${layer}' expects exactly one input tensor, got ${inputs.length}`, { tensor: layer });
  return inputs[0];
}

/**
 * Learnable polynomial activation as a tfjs-layers layer (docs/poly-layer.md), built like
 * tfjs's PReLU: one weight `coeffs` (`[C, K+1]`, or `[1, K+1]` with layer
 * sharing), initialised by a least-squares fit to `target`. Input `[B, C]` or
 * `[B, H, W, C]` (channels last); output has the same shape.
 *
 * Serialised as `'ChainzPolyActivation'` (register with `import '@chainz/poly-layer'`).
 * @throws ConfigError for invalid options (named).
 */
export class PolyActivation extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'ChainzPolyActivation';
  static readonly [CHAINZ_LAYER] = true;
  /** The resolved polynomial configuration. */
  readonly polyConfig: PolyConfig;
  /** The activation the coefficients were fitted to. */
  readonly target: TargetActivation;
  /** Fit interval. */
  readonly fitDomain?: [number, number];
  /** Fit report of the initial coefficients (set by `build`). */
  fitReport?: PolyFit;
  private coeffs?: tfl.LayerVariable;

  constructor(args: PolyActivationArgs = {}) {
    checkLayerArgs('ChainzPolyActivation', args, []);
    super(args);
    this.polyConfig = pickPolyConfig(args);
    this.target = checkTarget(args.target ?? DEFAULT_LAYER_TARGET);
    this.fitDomain = args.fitDomain;
    this.supportsMasking = true;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const C = shape[shape.length - 1];
    if (shape.length < 2 || C == null) throw new ShapeError(`layer '${this.name}' needs a known last (channel) dimension, got input shape [${shape}]`, { tensor: this.name });
    const rows = this.polyConfig.sharing === 'channel' ? C : 1;
    this.fitReport = fitPolynomial(this.target, this.polyConfig, this.fitDomain ? { domain: this.fitDomain } : {});
    this.coeffs = this.addWeight('coeffs', [rows, this.polyConfig.degree + 1], 'float32', fittedInitializer(this.fitReport), undefined, true);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const z = exactlyOne(inputs, this.name);
      return polyActivation(z, this.coeffs!.read() as tf.Tensor2D, this.polyConfig, { name: this.name }).y;
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...this.polyConfig, target: this.target };
    if (this.fitDomain) config.fitDomain = [this.fitDomain[0], this.fitDomain[1]];
    return { ...config, ...super.getConfig() };
  }
}

/**
 * Dense layer followed by a learnable polynomial activation (docs/poly-layer.md):
 * y = σ(x·W + b), with weights `kernel` `[d_in, units]`, `bias` `[units]` and
 * `coeffs` `[units, K+1]` (or `[1, K+1]`). Input must be rank 2 (`[B, d_in]`).
 *
 * A {@link TracePenalty} (e.g. from `@chainz/dreg`'s `attachDreg`) can be attached
 * with {@link PolyDense.setTracePenalty}: during training calls (`training: true`,
 * as in `model.fit`) the layer evaluates it on its forward trace and the value is
 * collected through tfjs-layers' `addLoss` mechanism, so it is added to the loss
 * that `fit` minimises and reports. The penalty is a training setting: it is not
 * serialised with the model.
 *
 * Serialised as `'ChainzPolyDense'`.
 * @throws ConfigError for invalid options (named).
 */
export class PolyDense extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'ChainzPolyDense';
  static readonly [CHAINZ_LAYER] = true;
  readonly units: number;
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
  private readonly penalty = new TracePenaltyRecorder<DenseLayerTrace>();

  constructor(args: PolyDenseArgs) {
    checkLayerArgs('ChainzPolyDense', args, ['units', 'useBias', 'kernelInitializer', 'seed', 'kernelRegularizer', 'biasRegularizer']);
    super(args);
    if (!Number.isInteger(args?.units) || args.units < 1) {
      throw new ConfigError(`must be a positive integer, got ${JSON.stringify(args?.units)}`, { option: 'units' });
    }
    this.units = args.units;
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
    const dIn = shape[shape.length - 1];
    if (shape.length !== 2 || dIn == null) throw new ShapeError(`layer '${this.name}' needs rank-2 input [B, d_in] with known d_in, got [${shape}]`, { tensor: this.name });
    // regularizers: addWeight registers their value as a layer loss, which fit adds to the loss
    this.kernel = this.addWeight('kernel', [dIn, this.units], 'float32', this.kernelInitializer, this.kernelRegularizer, true);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], 'float32', tfl.initializers.zeros(), this.biasRegularizer, true);
    const rows = this.polyConfig.sharing === 'channel' ? this.units : 1;
    this.fitReport = fitPolynomial(this.target, this.polyConfig, this.fitDomain ? { domain: this.fitDomain } : {});
    this.coeffs = this.addWeight('coeffs', [rows, this.polyConfig.degree + 1], 'float32', fittedInitializer(this.fitReport), undefined, true);
    // Collected by LayersModel.calculateLosses() inside fit's training step, after the
    // forward pass (same gradient tape): returns the penalties recorded by call().
    this.addLoss(() => this.penalty.take());
    this.built = true;
  }

  /**
   * Attaches (or with `null` detaches) a penalty evaluated on this layer's forward
   * trace during training calls.
   * @param penalty the penalty, or null.
   * @param opts `secondDerivative`: the penalty needs `trace.d2y`; `jacobianNorm`:
   *   it uses `trace.jacobianFrobenius` (computed in the same fused pass as σ').
   */
  setTracePenalty(penalty: TracePenalty | null, opts: TracePenaltyNeeds = {}): void {
    this.penalty.set(penalty, opts);
  }

  /** The attached trace penalty, if any. */
  getTracePenalty(): TracePenalty | null {
    return this.penalty.get();
  }

  private params(): { kernel: tf.Tensor2D; bias?: tf.Tensor1D; coeffs: tf.Tensor2D } {
    return {
      kernel: this.kernel!.read() as tf.Tensor2D,
      bias: this.bias ? (this.bias.read() as tf.Tensor1D) : undefined,
      coeffs: this.coeffs!.read() as tf.Tensor2D,
    };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = exactlyOne(inputs, this.name) as tf.Tensor2D;
    const training = kwargs != null && kwargs['training'] === true;
    if (!this.penalty.active(training)) {
      return tf.tidy(() => polyDense(x, this.params(), this.polyConfig, { name: this.name }).y);
    }
    // Training with a penalty: no tidy here, the trace must stay on fit's gradient scope
    // (which disposes it after the step).
    const { y, trace } = polyDense(x, this.params(), this.polyConfig, {
      name: this.name,
      ...this.penalty.requirements,
    });
    this.penalty.record(trace);
    return y;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    const init = this.kernelInitializer as unknown as { getClassName?: () => string; getConfig?: () => tf.serialization.ConfigDict };
    const config: tf.serialization.ConfigDict = {
      units: this.units,
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
 * Registers {@link PolyActivation} and {@link PolyDense} with tfjs's serialization
 * registry so `loadLayersModel` can rebuild them. Idempotent. Runs on import of the
 * package (its `register` module); call it yourself only if a bundler dropped that.
 * @throws ChainzError `E_TFJS_DUPLICATE` if a different (non-Chainz) class is
 *   already registered under the same className (tfjs would silently overwrite it).
 */
export function registerPolyLayers(): void {
  for (const cls of [PolyActivation, PolyDense]) registerChainzLayerClass(cls);
}

/**
 * Registers one Chainz layer class with tfjs's serialization registry, refusing
 * to overwrite a foreign class of the same className.
 * @throws ChainzError `E_TFJS_DUPLICATE`.
 * @internal
 */
export function registerChainzLayerClass(cls: { className: string }): void {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  const existing = map[cls.className] as unknown as [Record<symbol, unknown>, unknown] | undefined;
  if (existing !== undefined && existing[0] !== (cls as unknown) && existing[0][CHAINZ_LAYER] !== true) {
    throw new ChainzError('E_TFJS_DUPLICATE', `another class is already registered with tfjs as '${cls.className}'`, { tensor: cls.className });
  }
  tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}
