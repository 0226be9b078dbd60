import './register.js';

export {
  DEFAULT_POLY_CONFIG,
  LAYERNORM_EPSILON,
  MAX_POLY_DEGREE,
  resolvePolyConfig,
  type PolyBasis,
  type PolyConfig,
  type PolyGuard,
  type PolySharing,
} from './config';
export { basisValues, guardValue, polyValue } from './basis';
export { DEFAULT_LEAKY_RELU_ALPHA, TARGET_ACTIVATIONS, targetFunction, type TargetActivation } from './targets';
export { DEFAULT_FIT_DOMAIN, fitPolynomial, initPolyCoefficients, type PolyFit, type PolyFitOptions } from './fit';
export {
  getNumericCheck,
  polyActivation,
  setNumericCheck,
  type LayerNormAux,
  type NumericCheckMode,
  type PolyActivationOptions,
  type PolyActivationResult,
} from './activation';
export { disposeTraces, type Conv2dLayerTrace, type DenseLayerTrace, type LayerTrace } from './trace';
export { polyDense, type PolyDenseOptions, type PolyDenseParams } from './poly-dense';
export {
  DEFAULT_LAYER_TARGET,
  PolyActivation,
  PolyDense,
  registerPolyLayers,
  type PolyActivationArgs,
  type PolyDenseArgs,
  type PolyLayerCommonArgs,
} from './layers';
export type { TracePenalty, TracePenaltyNeeds } from './trace-penalty';
export { loadModel, saveModel } from './io';
export {
  denseJacobianFrobenius,
  getPolyImplementation,
  hasFusedKernels,
  setPolyImplementation,
  weightedSum,
  type PolyImplementation,
} from './kernels/ops';
export { registerPolyKernels } from './kernels/register';
export { polyDenseBatched, weightedSumGrouped, type PolyDenseBatchedParams } from './kernels/batched';
export {
  conv2d,
  conv2dGeometry,
  inBoundsTapMask,
  type Conv2dGeometry,
  type Conv2dOptions,
  type Conv2dPadding,
  type ConvAxisGeometry,
} from './conv2d';
export { polyConv2d, type PolyConv2dOptions, type PolyConv2dParams } from './poly-conv2d';
export { PolyConv2D, registerPolyConv2D, type PolyConv2DArgs } from './poly-conv2d-layer';
