export { lambdaSchedule, type LambdaSchedule, type LambdaScheduleSpec } from './schedule';
export {
  DEFAULT_DREG_LAMBDA,
  DEFAULT_DREG_OPTIONS,
  resolveDregOptions,
  type DregOptions,
  type DregVariant,
  type ResolvedDregOptions,
} from './options';
export { applyLayerNormJacobian, perSampleJacobianFrobenius } from './jacobian';
export { perSampleConvJacobianFrobenius } from './jacobian-conv';
export { dregLayerPenalty, dregPenalty, perSampleLayerPenalty } from './penalty';
export { attachDreg, detachDreg } from './attach';
export type { Conv2dLayerTrace, DenseLayerTrace, LayerTrace } from '@chainz/poly-layer';
export {
  inputGradientPenalty,
  randomProjectionJacobianPenalty,
  spectralNorm,
  spectralNormalize,
  twiceDifferentiableSigmoidCrossEntropy,
  twiceDifferentiableSoftmaxCrossEntropy,
  weightDecay,
  type RandomProjectionOptions,
  type SpectralNormResult,
} from './baselines';
export {
  STANDARD_ACTIVATIONS,
  activate,
  activationDerivative,
  activationSecondDerivative,
  type StandardActivation,
} from './activations';
export { activationDense, type ActivationDenseOptions, type DenseParams } from './activation-dense';
export { TWICE_DIFFERENTIABLE_KERNELS, withTwiceDifferentiableGradients } from './double-backprop';
export {
  DEFAULT_JACOBIAN_LAMBDA,
  DEFAULT_WEIGHT_DECAY,
  REGULARIZER_KINDS,
  createRegularizer,
  type KernelOptions,
  type Regularizer,
  type RegularizerContext,
  type RegularizerKind,
  type RegularizerNeeds,
  type RegularizerSpec,
  type StepContext,
} from './regularizers';
