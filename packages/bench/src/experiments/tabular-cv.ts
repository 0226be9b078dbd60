import { createHash } from 'node:crypto';
import { ConfigError, type OptionNames } from '@chainz/core';
import { fitTabularPreprocessor, repeatedStratifiedKFold, takeRows } from '@chainz/data';
import type { ModelRunner, TabularFold } from '../models/types';
import { accuracy } from '../models/types';
import { createProgress, type ProgressMode } from '../progress';
import { formatWallTime, ResultsDir, type RunTime, type UnitResult } from '../results';
import { compareModels, renderTable, summarize, type Comparison, type ModelSummary, type PaperFigure } from '../report';
import type { EnvironmentInfo } from '../env';
import { inProcessExecutor, type UnitExecutor } from '../executor';
import { foldFlags, withCliFlags } from './cli-flags';

/** Cross-validation protocol. */
export interface CvProtocol {
  /** k of stratified k-fold (≥ 2). */
  folds: number;
  /** Independent repetitions with different fold assignments. */
  repeats: number;
  /** Seed of fold assignment, initialisers and batch order. */
  seed: number;
}

/** Input of a tabular cross-validation experiment. */
export interface TabularCvInput {
  experiment: string;
  /** Raw features [n, d] row-major (NaN = missing), labels [n]. */
  x: Float32Array;
  y: Int32Array;
  nFeatures: number;
  classNames: string[];
  /** Identifies the data (e.g. sha256 of the file) for resume checks. */
  dataFingerprint: string;
  dataDescription: Record<string, unknown>;
  protocol: CvProtocol;
  models: ModelRunner[];
  /** The model compared with all others (e.g. `cr`). */
  reference: string;
  paper?: PaperFigure;
  /** Lines printed above the table (stdout and summary.md), e.g. which data file was used. */
  headerLines?: string[];
  notes?: string[];
  environment: EnvironmentInfo;
  results: { dir: string; resume: boolean };
  progress: ProgressMode;
  /** Runs the units; default: in this thread, one at a time. */
  executor?: UnitExecutor;
  /**
   * CLI flags of the fold splitter's options, used in its error messages;
   * default {@link foldFlags}`('--data')` (`k` → `--folds`, `repeats` → `--repeats`,
   * `labels` → `--data`).
   */
  cliFlags?: OptionNames;
  /** `performance.now()` when the command started (wall time counts from here); default: when this function starts. */
  startedAt?: number;
}

/** What a finished (or resumed-and-finished) run returns. */
export interface TabularCvOutput {
  dir: string;
  summaries: ModelSummary[];
  comparisons: Comparison[];
  table: string;
  /** Wall time of the run, seconds, summed over its sessions (`--resume`). */
  wallSeconds: number;
  /** Units computed in this invocation (less than the total when resuming). */
  computedUnits: number;
}

/** Per-fold seed shared by every model (same folds and seeds for all). */
export function unitSeed(seed: number, repeat: number, fold: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(repeat + 1, 0x85ebca6b) ^ Math.imul(fold + 1, 0xc2b2ae35)) >>> 1;
}

/**
 * Run stratified k-fold × repeats for every model on the same folds and seeds.
 * Imputation and standardisation are fitted on each training fold only.
 * After every (model, fold) unit, results.json and summary.md are rewritten
 * atomically, so an interrupted run can be resumed.
 */
export async function runTabularCv(input: TabularCvInput): Promise<TabularCvOutput> {
  const t0 = performance.now();
  const { protocol, models, x, y, nFeatures } = input;
  if (!Number.isInteger(protocol.folds) || protocol.folds < 2) throw new ConfigError(`must be an integer ≥ 2, got ${protocol.folds}`, { option: '--folds' });
  if (!Number.isInteger(protocol.repeats) || protocol.repeats < 1) throw new ConfigError(`must be an integer ≥ 1, got ${protocol.repeats}`, { option: '--repeats' });
  if (!Number.isInteger(protocol.seed)) throw new ConfigError(`must be an integer, got ${protocol.seed}`, { option: '--seed' });

  const splits = withCliFlags(input.cliFlags ?? foldFlags('--data'), () => repeatedStratifiedKFold(y, protocol.folds, protocol.repeats, protocol.seed));
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ protocol, data: input.dataFingerprint, models: models.map((m) => [m.name, m.config]) }))
    .digest('hex');
  const identity = { experiment: input.experiment, fingerprint };
  const clock = { startedAt: input.startedAt ?? t0 };
  const store = input.results.resume ? await ResultsDir.resume(input.results.dir, identity, clock) : await ResultsDir.create(input.results.dir, identity, clock);

  const total = splits.length * models.length;
  const expectedUnits = splits.length;
  const progress = createProgress(input.progress);
  const nTrainMean = splits.reduce((s, f) => s + f.train.length, 0) / splits.length;
  const nTestMean = splits.reduce((s, f) => s + f.test.length, 0) / splits.length;

  const flush = async (status: 'running' | 'complete') => {
    const units = store.all();
    const summaries = summarize(units, models, expectedUnits);
    const comparisons = compareModels(units, input.reference, models.map((m) => m.name).filter((n) => n !== input.reference), { nTrain: nTrainMean, nTest: nTestMean });
    const table = [...(input.headerLines ?? []), ...(input.headerLines?.length ? [''] : []), renderTable(summaries, comparisons, input.reference, input.paper)].join('\n');
    const doc = {
      status,
      protocol: { ...protocol, kind: 'repeated stratified k-fold', preprocessing: 'median imputation + standardisation fitted on each training fold' },
      data: input.dataDescription,
      models: summaries.map((s) => ({ ...s, config: models.find((m) => m.name === s.name)?.config })),
      comparisons,
      paper: input.paper ?? null,
      notes: input.notes ?? [],
      environment: { ...input.environment, workers: input.executor?.concurrency ?? 1 },
    };
    const time = await store.flush(doc, (t) => renderSummary(input, table, status, t));
    return { summaries, comparisons, table, wallSeconds: time.wallSeconds };
  };

  // Pending units, fold-major so each fold's preprocessing is done once.
  const pending: { split: (typeof splits)[number]; model: ModelRunner }[] = [];
  let resumed = 0;
  for (const split of splits) {
    for (const model of models) {
      if (store.has(model.name, split.repeat, split.fold)) resumed++;
      else pending.push({ split, model });
    }
  }
  const executor = input.executor ?? inProcessExecutor(models);
  const foldCache = new Map<(typeof splits)[number], TabularFold>();
  const getFold = (split: (typeof splits)[number]) => {
    let f = foldCache.get(split);
    if (!f) {
      f = prepareFold(x, y, nFeatures, input.classNames.length, split.train, split.test);
      foldCache.set(split, f);
    }
    return f;
  };

  let computed = 0;
  let flushing: Promise<unknown> = Promise.resolve();
  progress.start(total, input.experiment);
  progress.skip(resumed, 'resumed from an earlier run');
  try {
    let next = 0;
    const workerLoop = async () => {
      while (next < pending.length) {
        const { split, model } = pending[next++];
        const fold = getFold(split);
        const seed = unitSeed(protocol.seed, split.repeat, split.fold);
        const r = await executor.run(model.name, fold, seed);
        const unit: UnitResult = {
          model: model.name,
          repeat: split.repeat,
          fold: split.fold,
          accuracy: accuracy(r.predictions, fold.yTest),
          tau: r.tau,
          trainSeconds: r.trainSeconds,
          nTrain: split.train.length,
          nTest: split.test.length,
          info: r.info,
        };
        store.add(unit);
        computed++;
        flushing = flushing.then(() => flush('running'));
        await flushing;
        progress.tick(`${model.name} r${split.repeat} f${split.fold}: acc ${(100 * unit.accuracy).toFixed(1)}%${unit.tau !== null ? ` τ ${unit.tau.toFixed(3)}` : ''} (${unit.trainSeconds.toFixed(1)} s)`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, executor.concurrency) }, workerLoop));
  } finally {
    progress.stop();
    if (!input.executor) await executor.close();
  }
  const final = await flush('complete');
  return { dir: input.results.dir, ...final, computedUnits: computed };
}

function prepareFold(x: Float32Array, y: Int32Array, d: number, nClasses: number, train: Int32Array, test: Int32Array): TabularFold {
  const xTrainRaw = takeRows(x, d, train);
  const xTestRaw = takeRows(x, d, test);
  const pre = fitTabularPreprocessor(xTrainRaw, train.length, d, { impute: 'median', standardize: true });
  return {
    xTrain: pre.transform(xTrainRaw, train.length),
    yTrain: Int32Array.from(train, (i) => y[i]),
    xTest: pre.transform(xTestRaw, test.length),
    yTest: Int32Array.from(test, (i) => y[i]),
    nFeatures: d,
    nClasses,
  };
}

function renderSummary(input: TabularCvInput, table: string, status: string, time: RunTime): string {
  const p = input.protocol;
  const lines = [
    `# ${input.experiment}: results${status === 'complete' ? '' : ' (partial, run in progress or interrupted)'}`,
    '',
    `Protocol: stratified ${p.folds}-fold × ${p.repeats} repeat(s), seed ${p.seed}; median imputation and standardisation fitted on each training fold only. ` +
      `p-values: Nadeau–Bengio corrected resampled t-test of \`${input.reference}\` against each model, Holm-adjusted over that family.`,
    '',
    table,
    '',
    ...(input.notes ?? []).map((n) => `- ${n}`),
    '',
    `Backend: ${input.environment.backend}; Node ${input.environment.node}; tfjs ${input.environment.tfjs}; ${input.environment.cpus} × ${input.environment.cpuModel}; wall time ${formatWallTime(time)}; git ${input.environment.gitCommit ?? 'unknown'}.`,
    '',
  ];
  return lines.join('\n');
}
