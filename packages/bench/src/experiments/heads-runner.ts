import { createHash } from 'node:crypto';
import { markdownTable } from 'markdown-table';
import { meanStd } from '@chainz/metrics';
import type { ModelRunner, TabularFold } from '../models/types';
import { accuracy } from '../models/types';
import type { Progress } from '../progress';
import { formatWallTime, ResultsDir, type RunTime, type UnitResult } from '../results';
import { compareModels, summarize, type Comparison, type ModelSummary } from '../report';
import type { EnvironmentInfo } from '../env';
import type { UnitExecutor } from '../executor';
import { meanAbsoluteError, quadraticWeightedKappa } from '../ordinal-metrics';

/** One planned evaluation: a train/test split (fixed split + seed, or a fold) shared by every model. */
export interface HeadUnitSpec {
  /** Repeat index (0 for seed-only protocols). */
  repeat: number;
  /** Fold index, or the seed index for seed-only protocols. */
  fold: number;
  /** Seed of initialisation and batch order for every model of this unit. */
  seed: number;
  nTrain: number;
  nTest: number;
  /** Builds the unit's data (lazily, once per unit, shared by all models). */
  data: () => TabularFold;
}

/** A row shown beside ours in the table, clearly labelled (the paper's figure, a literature anchor). */
export interface ReferenceRow {
  /** e.g. `paper: ChainzRule head on frozen BERT`, `literature: RNTN (Socher et al. 2013)`. */
  label: string;
  /** Accuracy in %, as text (e.g. `46.20 ± 0.37`). */
  accuracy: string;
  mae?: string;
  qwk?: string;
  tau?: string;
}

/** Input of {@link runHeadExperiment}. */
export interface HeadExperimentInput {
  experiment: string;
  units: HeadUnitSpec[];
  models: ModelRunner[];
  /** The model compared with all others (e.g. `cr`). */
  reference: string;
  /** Protocol, stored in results.json and part of the resume fingerprint. */
  protocol: Record<string, unknown>;
  /** One paragraph describing the protocol for summary.md. */
  protocolText: string;
  /**
   * `seeds`: one fixed split, units differ by seed only → paired t-test and
   * Wilcoxon (no overlapping training sets, so no variance correction);
   * `folds`: k-fold units → Nadeau–Bengio corrected resampled t (shown) plus
   * paired t and Wilcoxon (in results.json).
   */
  statistics: 'seeds' | 'folds';
  /** Also report MAE and quadratic weighted kappa (ordinal tasks). */
  ordinal: boolean;
  nClasses: number;
  dataFingerprint: string;
  dataDescription: Record<string, unknown>;
  /** Lines printed above the table (encoder, data scale). */
  headerLines: string[];
  references: ReferenceRow[];
  /** The paper's figures as stored in results.json. */
  paper: Record<string, unknown>;
  notes: string[];
  environment: EnvironmentInfo;
  results: { dir: string; resume: boolean };
  progress: Progress;
  executor: UnitExecutor;
  /** performance.now() at the start of the command (wall time includes loading and embedding). */
  startedAt: number;
  /** Extra facts for results.json (e.g. embedding seconds, cache hits). */
  extra?: Record<string, unknown>;
}

/** Mean ± std of MAE and QWK over a model's units (ordinal tasks). */
export interface OrdinalSummary {
  name: string;
  mae: { mean: number; std: number };
  qwk: { mean: number; std: number };
}

/** What {@link runHeadExperiment} returns. */
export interface HeadExperimentOutput {
  dir: string;
  summaries: ModelSummary[];
  ordinal: OrdinalSummary[];
  comparisons: Comparison[];
  /** The Markdown table printed on stdout (header lines included). */
  table: string;
  /** Wall time of the run, seconds, summed over its sessions (`--resume`). */
  wallSeconds: number;
  computedUnits: number;
}

/**
 * Run every model on every unit (split × seed, or fold), with per-unit atomic
 * flushes of results.json / summary.md and `--resume` support (ResultsDir).
 * Accuracy, τ (from the model), and for ordinal tasks MAE and QWK, per unit.
 */
export async function runHeadExperiment(input: HeadExperimentInput): Promise<HeadExperimentOutput> {
  const { models, units } = input;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ protocol: input.protocol, data: input.dataFingerprint, models: models.map((m) => [m.name, m.config]) }))
    .digest('hex');
  const identity = { experiment: input.experiment, fingerprint };
  const clock = { startedAt: input.startedAt };
  const store = input.results.resume ? await ResultsDir.resume(input.results.dir, identity, clock) : await ResultsDir.create(input.results.dir, identity, clock);
  const expectedUnits = units.length;
  const nTrainMean = units.reduce((s, u) => s + u.nTrain, 0) / units.length;
  const nTestMean = units.reduce((s, u) => s + u.nTest, 0) / units.length;
  const others = models.map((m) => m.name).filter((n) => n !== input.reference);

  const flush = async (status: 'running' | 'complete') => {
    const all = store.all();
    const summaries = summarize(all, models, expectedUnits);
    let comparisons = compareModels(all, input.reference, others, { nTrain: nTrainMean, nTest: nTestMean });
    if (input.statistics === 'seeds') comparisons = comparisons.filter((c) => c.test !== 'corrected-resampled-t');
    const ordinal = input.ordinal ? summarizeOrdinal(all, models) : [];
    const table = renderHeadTable(input, summaries, ordinal, comparisons, all);
    const doc = {
      status,
      protocol: input.protocol,
      data: input.dataDescription,
      models: summaries.map((s) => ({
        ...s,
        ...(input.ordinal ? { mae: ordinal.find((o) => o.name === s.name)?.mae, qwk: ordinal.find((o) => o.name === s.name)?.qwk } : {}),
        config: models.find((m) => m.name === s.name)?.config,
      })),
      comparisons,
      paper: input.paper,
      references: input.references,
      notes: input.notes,
      ...(input.extra ?? {}),
      environment: { ...input.environment, workers: input.executor.concurrency },
    };
    const time = await store.flush(doc, (t) => renderSummary(input, table, status, t));
    return { summaries, ordinal, comparisons, table, wallSeconds: time.wallSeconds };
  };

  const pending: { unit: HeadUnitSpec; model: ModelRunner }[] = [];
  let resumed = 0;
  for (const unit of units) {
    for (const model of models) {
      if (store.has(model.name, unit.repeat, unit.fold)) resumed++;
      else pending.push({ unit, model });
    }
  }
  const cache = new Map<HeadUnitSpec, TabularFold>();
  const dataOf = (u: HeadUnitSpec) => {
    let f = cache.get(u);
    if (!f) {
      f = u.data();
      cache.set(u, f);
      // Keep at most a few prepared units in memory (pending is unit-major).
      if (cache.size > 4) cache.delete(cache.keys().next().value!);
    }
    return f;
  };

  const progress = input.progress;
  let computed = 0;
  let flushing: Promise<unknown> = Promise.resolve();
  progress.start(units.length * models.length, input.experiment);
  progress.skip(resumed, 'resumed from an earlier run');
  try {
    let next = 0;
    const loop = async () => {
      while (next < pending.length) {
        const { unit, model } = pending[next++];
        const fold = dataOf(unit);
        const r = await input.executor.run(model.name, fold, unit.seed);
        const info: Record<string, number | string> = { ...(r.info ?? {}) };
        if (input.ordinal) {
          info.mae = meanAbsoluteError(r.predictions, fold.yTest);
          info.qwk = quadraticWeightedKappa(r.predictions, fold.yTest, input.nClasses);
        }
        const result: UnitResult = {
          model: model.name,
          repeat: unit.repeat,
          fold: unit.fold,
          accuracy: accuracy(r.predictions, fold.yTest),
          tau: r.tau,
          trainSeconds: r.trainSeconds,
          nTrain: unit.nTrain,
          nTest: unit.nTest,
          info,
        };
        store.add(result);
        computed++;
        flushing = flushing.then(() => flush('running'));
        await flushing;
        const where = input.statistics === 'seeds' ? `seed ${unit.seed}` : `r${unit.repeat} f${unit.fold}`;
        const extra = input.ordinal ? ` MAE ${Number(info.mae).toFixed(3)} QWK ${Number(info.qwk).toFixed(3)}` : '';
        progress.tick(`${model.name} ${where}: acc ${(100 * result.accuracy).toFixed(2)}%${extra}${r.tau !== null ? ` τ ${r.tau.toFixed(3)}` : ''} (${r.trainSeconds.toFixed(1)} s)`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, input.executor.concurrency) }, loop));
  } finally {
    progress.stop();
  }
  const final = await flush('complete');
  return { dir: input.results.dir, ...final, computedUnits: computed };
}

/** Mean epoch kept (best on validation) over a model's units, as text. */
function meanBestEpoch(units: UnitResult[], model: string): string {
  const e = units.filter((u) => u.model === model && typeof u.info?.bestEpoch === 'number').map((u) => Number(u.info!.bestEpoch));
  if (e.length === 0) return '—';
  const ep = units.find((u) => u.model === model && typeof u.info?.epochs === 'number')?.info?.epochs;
  return `${(e.reduce((a, b) => a + b, 0) / e.length).toFixed(1)}${ep !== undefined ? `/${ep}` : ''}`;
}

function summarizeOrdinal(units: UnitResult[], models: { name: string }[]): OrdinalSummary[] {
  const out: OrdinalSummary[] = [];
  for (const m of models) {
    const us = units.filter((u) => u.model === m.name);
    if (us.length === 0) continue;
    const mae = meanStd(us.map((u) => Number(u.info?.mae)));
    const qwk = meanStd(us.map((u) => Number(u.info?.qwk)));
    out.push({ name: m.name, mae: { mean: mae.mean, std: mae.std }, qwk: { mean: qwk.mean, std: qwk.std } });
  }
  return out;
}

const pct = (x: number) => (100 * x).toFixed(2);
const pm = (m: number, s: number, digits: number) => `${m.toFixed(digits)} ± ${Number.isFinite(s) ? s.toFixed(digits) : '—'}`;
const fmtP = (p: number | undefined) => (p === undefined || !Number.isFinite(p) ? '—' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
const pCell = (c: Comparison | undefined) => (c ? `${fmtP(c.p)} (${fmtP(c.pAdjusted)})` : '—');

/** The results table: our models, then the labelled reference rows (paper, literature). */
export function renderHeadTable(
  input: Pick<HeadExperimentInput, 'reference' | 'statistics' | 'ordinal' | 'headerLines' | 'references' | 'models'>,
  summaries: ModelSummary[],
  ordinal: OrdinalSummary[],
  comparisons: Comparison[],
  units: UnitResult[],
): string {
  const ref = input.reference;
  const tests = input.statistics === 'seeds' ? (['paired-t', 'wilcoxon'] as const) : (['corrected-resampled-t', 'wilcoxon'] as const);
  const testName = { 'paired-t': 'paired t', wilcoxon: 'Wilcoxon', 'corrected-resampled-t': 'corrected t' } as const;
  const unitWord = input.statistics === 'seeds' ? 'seed' : 'fold';
  const header = [
    'model',
    ...(input.ordinal ? ['head'] : []),
    'accuracy % (mean ± std)',
    ...(input.ordinal ? ['MAE', 'QWK'] : []),
    'τ (p99/mean)',
    'best epoch',
    'params',
    `train s/${unitWord}`,
    ...tests.map((t) => `p vs ${ref}, ${testName[t]} (Holm)`),
  ];
  const rows: string[][] = [header];
  for (const s of summaries) {
    const o = ordinal.find((x) => x.name === s.name);
    const us = s.units < s.expectedUnits ? ` (${s.units}/${s.expectedUnits})` : '';
    const cfg = input.models.find((m) => m.name === s.name)?.config as { head?: string } | undefined;
    rows.push([
      s.name,
      ...(input.ordinal ? [cfg?.head ?? 'softmax'] : []),
      `${pct(s.accuracy.mean)} ± ${Number.isFinite(s.accuracy.std) ? pct(s.accuracy.std) : '—'}${us}`,
      ...(input.ordinal ? [o ? pm(o.mae.mean, o.mae.std, 3) : '—', o ? pm(o.qwk.mean, o.qwk.std, 3) : '—'] : []),
      s.tau ? pm(s.tau.mean, s.tau.std, 3) : 'n/a',
      meanBestEpoch(units, s.name),
      s.parameters !== undefined ? String(s.parameters) : '—',
      s.trainSeconds.toFixed(1),
      ...tests.map((t) => (s.name === ref ? '(reference)' : pCell(comparisons.find((c) => c.test === t && c.b === s.name)))),
    ]);
  }
  for (const r of input.references) {
    rows.push([
      r.label,
      ...(input.ordinal ? ['—'] : []),
      r.accuracy,
      ...(input.ordinal ? [r.mae ?? '—', r.qwk ?? '—'] : []),
      r.tau ?? '—',
      '—',
      '—',
      '—',
      ...tests.map(() => '—'),
    ]);
  }
  return [...input.headerLines, '', markdownTable(rows, { align: ['l', ...header.slice(1).map(() => 'r' as const)] })].join('\n');
}

function renderSummary(input: HeadExperimentInput, table: string, status: string, time: RunTime): string {
  const testText =
    input.statistics === 'seeds'
      ? `p-values: paired t-test and Wilcoxon signed-rank test of \`${input.reference}\` against each model over seeds (same split, so no resampling correction is needed), Holm-adjusted within each test's family; raw p first, adjusted in brackets.`
      : `p-values: Nadeau–Bengio corrected resampled t-test and Wilcoxon signed-rank test of \`${input.reference}\` against each model over folds, Holm-adjusted within each test's family; raw p first, adjusted in brackets.`;
  return [
    `# ${input.experiment}: results${status === 'complete' ? '' : ' (partial, run in progress or interrupted)'}`,
    '',
    input.protocolText,
    '',
    testText,
    '',
    table,
    '',
    ...input.notes.map((n) => `- ${n}`),
    '',
    `Backend: ${input.environment.backend}; Node ${input.environment.node}; tfjs ${input.environment.tfjs}; ${input.environment.cpus} × ${input.environment.cpuModel}; wall time ${formatWallTime(time)} (whole command, loading and embedding included); git ${input.environment.gitCommit ?? 'unknown'}.`,
    '',
  ].join('\n');
}
