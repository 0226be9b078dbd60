/**
 * The 24 models of `chainz bench dreg-study`: one per (activation,
 * regulariser) pair, named `<activation>-<regulariser>` (e.g. `gelu-dreg`),
 * all with the same network shape and training configuration (config.ts).
 * A run trains on a cell's training part, then measures on its test part the
 * clean accuracy, the accuracy under additive Gaussian input noise, and τ.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Rng } from '@chainz/core';
import { createRegularizer, type Regularizer, type RegularizerSpec } from '@chainz/dreg';
import { gradientTailRatio, inputGradientNormsAsync } from '@chainz/metrics';
import { driveAsync } from '../../models/train';
import { accuracy, type TabularFold } from '../../models/types';
import type { JsonObject, UnitModel } from '../../runner/contract';
import {
  NOISE_DRAWS,
  NOISE_SIGMAS,
  STUDY_ACTIVATIONS,
  STUDY_PROTOCOLS,
  STUDY_REGULARIZER_SPECS,
  STUDY_REGULARIZERS,
  type StudyActivation,
  type StudyNetworkConfig,
  type StudyRegularizer,
} from './config';
import { StudyNet, trainStudyNet } from './network';

/** The payload of one unit: a preprocessed train/test fold, with the validation hold-out (when every class allows one) in `xVal`/`yVal`. */
export type StudyPayload = TabularFold;

/** What one run returns (and, with the cell key, what is stored). */
export interface StudyOutput {
  /** Clean test accuracy in [0, 1]. */
  accuracy: number;
  /** Test accuracy under noise, one per {@link NOISE_SIGMAS} entry (mean over {@link NOISE_DRAWS} draws). */
  noisyAccuracy: number[];
  /** τ = p99/mean of per-sample ‖∂ℓ_i/∂x_i‖₂ on the clean test rows. */
  tau: number;
  /** Wall time of training, seconds. */
  trainSeconds: number;
  info: Record<string, number | string>;
}

/** JSON options of the models (sent to worker threads). */
export interface StudyModelOptions extends JsonObject {
  /** `default` or `full`: selects the network configuration. */
  protocol?: 'default' | 'full';
  /** Overrides the protocol's epochs [--epochs]. */
  epochs?: number;
  /** Subsets of the grid [--activations, --regularizers]; default all. */
  activations?: StudyActivation[];
  regularizers?: StudyRegularizer[];
}

/** Model name of a pair. */
export function studyModelName(activation: StudyActivation, regularizer: StudyRegularizer): string {
  return `${activation}-${regularizer}`;
}

/** Every model name, activation-major (cr-none, cr-wd, …, tanh-dreg). */
export const STUDY_MODEL_NAMES: readonly string[] = STUDY_ACTIVATIONS.flatMap((a) => STUDY_REGULARIZERS.map((r) => studyModelName(a, r)));

/** The network configuration of the model options (protocol's, epochs overridden). */
export function studyNetwork(options: StudyModelOptions): StudyNetworkConfig {
  const base = STUDY_PROTOCOLS[options.protocol ?? 'default'].network;
  return options.epochs === undefined ? base : { ...base, epochs: options.epochs };
}

/** The regulariser spec of one run: spectral-norm's and the projections' seed is the unit's seed. */
function specForRun(id: StudyRegularizer, seed: number): RegularizerSpec {
  const spec = STUDY_REGULARIZER_SPECS[id].spec;
  return spec.kind === 'spectral-norm' || spec.kind === 'jacobian-projection' ? { ...spec, seed } : spec;
}

const ACTIVATION_TEXT: Record<StudyActivation, string> = {
  cr: 'ChainzRule cubic polynomial (monomial, tanh guard, GELU init)',
  relu: 'ReLU',
  gelu: 'GELU (erf)',
  tanh: 'tanh',
};

function rowsOf(src: Float32Array, d: number, n: number): tf.Tensor2D {
  return tf.tensor2d(src, [n, d]);
}

function oneHot(y: Int32Array, k: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(y, 'int32'), k), 'float32') as tf.Tensor2D);
}

/**
 * Accuracy on `x + σ·ε` for each σ of {@link NOISE_SIGMAS}, averaged over
 * {@link NOISE_DRAWS} draws of ε ~ N(0, I) `[nTest, d]` from `Rng(noiseSeed)`:
 * the same ε for every σ (common random numbers) and for every model of a cell.
 */
async function noisyAccuracies(net: StudyNet, reg: Regularizer, fold: TabularFold, noiseSeed: number): Promise<number[]> {
  const rng = new Rng(noiseSeed);
  const n = fold.yTest.length;
  const d = fold.nFeatures;
  const sums = NOISE_SIGMAS.map(() => 0);
  const noisy = new Float32Array(n * d);
  const eps = new Float32Array(n * d);
  for (let draw = 0; draw < NOISE_DRAWS; draw++) {
    for (let i = 0; i < eps.length; i++) eps[i] = rng.normal();
    for (let s = 0; s < NOISE_SIGMAS.length; s++) {
      const sigma = NOISE_SIGMAS[s];
      for (let i = 0; i < eps.length; i++) noisy[i] = fold.xTest[i] + sigma * eps[i];
      const x = rowsOf(noisy, d, n);
      try {
        sums[s] += accuracy(await net.predict(x, reg), fold.yTest);
      } finally {
        x.dispose();
      }
    }
  }
  return sums.map((s) => s / NOISE_DRAWS);
}

/** Models already warmed up in this thread (see {@link warmUp}). */
const warmed = new Set<string>();

/**
 * Train a throwaway copy of the model for one step on a few rows, once per
 * model per thread, so that the timed run does not pay for first-call costs
 * (kernel set-up, JIT) — otherwise the first units a worker runs look slower.
 */
async function warmUp(name: string, activation: StudyActivation, regularizer: StudyRegularizer, network: StudyNetworkConfig, fold: StudyPayload): Promise<void> {
  if (warmed.has(name)) return;
  warmed.add(name);
  const { nFeatures: d, nClasses: k } = fold;
  const n = Math.min(network.batchSize, fold.yTrain.length); // one full batch: the shapes of the timed run
  const reg = createRegularizer(specForRun(regularizer, 0));
  const net = new StudyNet(activation, { ...network, epochs: 1, batchSize: n }, d, k, 0);
  const x = rowsOf(fold.xTrain.subarray(0, n * d), d, n);
  const t = oneHot(fold.yTrain.subarray(0, n), k);
  const xTest = rowsOf(fold.xTest, d, fold.yTest.length);
  try {
    await driveAsync(trainStudyNet(net, reg, x, t, 0, { x, targets: t }));
    await net.predict(xTest, reg);
  } finally {
    tf.dispose([x, t, xTest]);
    net.dispose();
    reg.dispose();
  }
}

/**
 * One study model: trains {@link StudyNet} with the pair's regulariser and
 * evaluates it (see {@link StudyOutput}).
 */
export function studyModel(activation: StudyActivation, regularizer: StudyRegularizer, network: StudyNetworkConfig): UnitModel<StudyPayload, StudyOutput> {
  const probe = createRegularizer(STUDY_REGULARIZER_SPECS[regularizer].spec);
  const filledSpec: Record<string, unknown> = { ...probe.spec };
  probe.dispose();
  if ('seed' in filledSpec) filledSpec.seed = 'the unit seed';
  const widths = network.hidden.join('-');
  return {
    name: studyModelName(activation, regularizer),
    description: `MLP ${widths}, ${ACTIVATION_TEXT[activation]}; ${STUDY_REGULARIZER_SPECS[regularizer].label}`,
    config: { activation, regularizer: filledSpec, network: { ...network } },
    async run(fold: StudyPayload, seed: number): Promise<StudyOutput> {
      await warmUp(studyModelName(activation, regularizer), activation, regularizer, network, fold);
      const { nFeatures: d, nClasses: k } = fold;
      const reg = createRegularizer(specForRun(regularizer, seed));
      const net = new StudyNet(activation, network, d, k, seed);
      const hasVal = fold.xVal !== undefined && fold.yVal !== undefined && fold.yVal.length > 0;
      const xTrain = rowsOf(fold.xTrain, d, fold.yTrain.length);
      const tTrain = oneHot(fold.yTrain, k);
      const xVal = hasVal ? rowsOf(fold.xVal!, d, fold.yVal!.length) : undefined;
      const tVal = hasVal ? oneHot(fold.yVal!, k) : undefined;
      const xTest = rowsOf(fold.xTest, d, fold.yTest.length);
      const tTest = oneHot(fold.yTest, k);
      try {
        const t0 = performance.now();
        const stats = await driveAsync(trainStudyNet(net, reg, xTrain, tTrain, seed, xVal && tVal ? { x: xVal, targets: tVal } : undefined));
        const trainSeconds = (performance.now() - t0) / 1000;
        const clean = accuracy(await net.predict(xTest, reg), fold.yTest);
        const noisyAccuracy = await noisyAccuracies(net, reg, fold, seed ^ 0x6e015e);
        // τ (input source): per-sample ‖∂ℓ_i/∂x_i‖₂ on the clean test rows, same code for every model
        const norms = await inputGradientNormsAsync((xb, start) => net.perSampleLoss(xb, tf.slice(tTest, [start, 0], [xb.shape[0], k]), reg), xTest);
        const tau = gradientTailRatio(norms);
        return {
          accuracy: clean,
          noisyAccuracy,
          tau,
          trainSeconds,
          info: {
            parameters: net.parameterCount(),
            steps: stats.steps,
            bestEpoch: stats.bestEpoch,
            bestValidationLoss: stats.bestValidationLoss,
            finalTaskLoss: stats.finalTaskLoss,
            finalPenalty: stats.finalPenalty,
            ...(stats.nonFiniteEpochs > 0 ? { nonFiniteEpochs: stats.nonFiniteEpochs } : {}),
            ...(hasVal ? {} : { validation: 'none: a class has < 2 training rows; last epoch kept' }),
          },
        };
      } finally {
        tf.dispose([xTrain, tTrain, xTest, tTest, ...(xVal ? [xVal] : []), ...(tVal ? [tVal] : [])]);
        net.dispose();
        reg.dispose();
      }
    },
  };
}

/**
 * The study's models for these options, activation-major.
 * @throws ConfigError (`--activations`, `--regularizers`) for unknown names.
 */
export function buildStudyModels(options: StudyModelOptions = {}): UnitModel<StudyPayload, StudyOutput>[] {
  const acts = options.activations ?? [...STUDY_ACTIVATIONS];
  const regs = options.regularizers ?? [...STUDY_REGULARIZERS];
  const badA = acts.filter((a) => !STUDY_ACTIVATIONS.includes(a));
  if (badA.length > 0) throw new ConfigError(`unknown value(s) ${badA.join(', ')}; choose from ${STUDY_ACTIVATIONS.join(', ')}`, { option: '--activations' });
  const badR = regs.filter((r) => !STUDY_REGULARIZERS.includes(r));
  if (badR.length > 0) throw new ConfigError(`unknown value(s) ${badR.join(', ')}; choose from ${STUDY_REGULARIZERS.join(', ')}`, { option: '--regularizers' });
  const network = studyNetwork(options);
  return STUDY_ACTIVATIONS.filter((a) => acts.includes(a)).flatMap((a) => STUDY_REGULARIZERS.filter((r) => regs.includes(r)).map((r) => studyModel(a, r, network)));
}
