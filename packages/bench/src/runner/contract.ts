/**
 * The experiment contract (specification version 1).
 *
 * An experiment declares what is particular to it — its flags, its models, its
 * units, how one unit's output becomes a stored record, and how records become
 * tables and plots — and {@link runExperiment} does the rest: fingerprinting,
 * the results folder, resume, the executor (this thread, worker threads or a
 * queue), progress, atomic flushes and the final summary.
 *
 * ```
 *  options ──▶ modelOptions ──▶ models (also built in workers)
 *     │
 *     └──▶ plan (data, cells) ──▶ units = cells × models ──▶ executor ──▶ record ──▶ results.json
 *                                                                          │
 *                                                                 report ◀─┘ (tables, summary.md, SVG)
 * ```
 *
 * A unit is one model trained on one cell's payload with the cell's seed. The
 * payload type `P` (a {@link TabularFold}, a CIFAR unit input, …) and the
 * model's output type `O` are the experiment's own: nothing is cast.
 */
import type { TopLevelSpec } from 'vega-lite';
import { ConfigError } from '@chainz/core';
import type { Progress } from '../progress';
import type { FlagSpec } from './flags';

/** JSON-serialisable values (sent to worker threads and queues, stored in results.json). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };
/** A JSON object. */
export type JsonObject = { [key: string]: Json | undefined };

/** Version of the experiment contract; a plugin built for another version is refused with a clear error. */
export const EXPERIMENT_SPEC_VERSION = 1 as const;

/**
 * A model under evaluation: trains on a unit's payload and returns an output.
 * Built by {@link Experiment.models} in the coordinating thread and again in
 * every worker, from the same JSON model options.
 *
 * @typeParam P the payload of a unit (e.g. a preprocessed train/test fold).
 * @typeParam O what one run returns (e.g. predictions, τ, timings).
 */
export interface UnitModel<P, O> {
  /** Short id used in tables and results, e.g. `cr`, `svm-rbf`. */
  name: string;
  /** One line: what the model is, with its key hyper-parameters. */
  description: string;
  /** Hyper-parameters; stored in results.json and part of the resume fingerprint. */
  config: Record<string, unknown>;
  /** Train on `payload` with `seed` (initialisation, batch order) and evaluate. */
  run(payload: P, seed: number): Promise<O>;
  /**
   * Optional: run several units of this model at once (e.g. the folds of a
   * cross-validation as one batched computation). Must return, for each
   * payload, what {@link run} returns for it with the same seed.
   */
  runBatch?(payloads: P[], seeds: number[]): Promise<O[]>;
}

/** Identity of a cell inside an experiment, e.g. `{ repeat: 0, fold: 3 }` or `{ dataset: 'glass', repeat: 0, fold: 3 }`. */
export type CellKey = Record<string, string | number>;

/**
 * A cell: one payload (a fold, a seed of a fixed split, a data fraction…)
 * shared by every model. Units are cells × models.
 */
export interface Cell<P> {
  /** Values of the plan's {@link ExperimentPlan.keyFields}, stored in every record of the cell. */
  key: CellKey;
  /** Seed of every model's run on this cell. */
  seed: number;
  /** Builds the payload (called lazily, at most a few cells are kept in memory at once). */
  payload(): P | Promise<P>;
  /** Restrict the cell to these models (default: every selected model). */
  models?: readonly string[];
  /**
   * Cells that a model with `runBatch` may train together in one batch must
   * share a group (e.g. the data set: the folds of one data set have the same
   * features and classes); default: every cell in one group.
   */
  batchGroup?: string;
}

/** The stored result of one unit: the model, the cell key fields, and what {@link ExperimentPlan.record} returns. */
export interface UnitRecord {
  model: string;
  [field: string]: unknown;
}

/** What {@link ExperimentPlan.report} returns: tables, summary text and plots of the records so far. */
export interface ExperimentReport {
  /** Printed on the terminal at the end of a run; keep lines within ~120 columns (details go to summary.md). */
  terminal: string;
  /** Body of summary.md (Markdown): protocol, full tables, notes. The runner adds the title and the environment line. */
  markdown: string;
  /** Fields added to results.json (model summaries, comparisons, the paper's figures, notes…). */
  doc: JsonObject | Record<string, unknown>;
  /** Plots written as SVG when the run completes (file names relative to the results folder). */
  plots?: { file: string; spec: TopLevelSpec }[];
}

/** What {@link ExperimentPlan.report} receives beside the records. */
export interface ReportContext {
  /** The models of the run (selected with `--models`), in table order. */
  models: { name: string; description: string; config: Record<string, unknown> }[];
}

/** What an experiment's {@link Experiment.plan} receives from the runner. */
export interface PlanContext {
  /** Directory relative paths start from (the user's working directory). */
  cwd: string;
  /** Progress for long preparation steps (embedding texts, generating corrupted images). */
  progress: Progress;
  /** One line of information (printed without breaking a progress bar). */
  log(message: string): void;
  /** Worker threads the run will use (data generation may use them too). */
  workers: number;
}

/**
 * A planned run: the data loaded, the cells to evaluate and how to record and
 * report them. Built once per run by {@link Experiment.plan}.
 */
export interface ExperimentPlan<P, O, R extends UnitRecord = UnitRecord> {
  /** Names of the fields of {@link Cell.key}, in sort order (e.g. `['repeat', 'fold']`). */
  keyFields: readonly string[];
  /** The cells, in the order they should run. */
  cells: Cell<P>[];
  /** Everything beyond the model configurations that determines the numbers (protocol, options), stored in results.json. */
  protocol: Record<string, unknown>;
  /** Checksums of the data (files' sha256, encoder ids…): part of the resume fingerprint. */
  dataFingerprint: string;
  /** Description of the data for results.json (name, rows, provenance). */
  data: Record<string, unknown>;
  /**
   * Turn one unit's output into the fields stored in its record (accuracy,
   * τ, timings…). Runs in the coordinating process, which has the payload.
   */
  record(output: O, payload: P, cell: Cell<P>, model: string): Omit<R, 'model'>;
  /** One progress line for a finished unit (default: model, key and accuracy if present). */
  describe?(record: R): string;
  /** Tables, summary and plots from the records so far (`status` is `complete` at the end). */
  report(records: R[], status: 'running' | 'complete', context: ReportContext): ExperimentReport;
  /** Relative cost of a model's units (longest first spreads work over workers); default 1. */
  cost?(model: string): number;
  /** Release what the plan holds (tensors, caches). */
  dispose?(): void | Promise<void>;
}

/**
 * An experiment: `chainz bench <name>`. Register it with
 * {@link registerExperiment} (or export it from a plugin module) and
 * `chainz bench <name>` gets its flags, the shared flags, results folders,
 * resume, workers and progress.
 *
 * @typeParam Opts its options (the values of its flags).
 * @typeParam P the payload of one unit; @typeParam O a model's output.
 */
export interface Experiment<Opts extends object = Record<string, unknown>, P = unknown, O = unknown, R extends UnitRecord = UnitRecord> {
  specificationVersion: typeof EXPERIMENT_SPEC_VERSION;
  /** Command name: lower-case letters, digits and '-'. */
  name: string;
  /** One line for `chainz --help` and `chainz experiments`. */
  title: string;
  /** Its flags (the shared ones from {@link COMMON_FLAGS} plus its own). `--out`, `--resume`, `--backend`, `--workers`, `--queue`, `--no-progress` are added by the runner. */
  flags: readonly FlagSpec[];
  /**
   * Name of a run's results folder and of its identity in results.json when it
   * depends on the options (e.g. `efficiency-pima`); default {@link name}.
   */
  runName?(options: Opts): string;
  /** JSON options that configure its models (e.g. `{ lambda }`), from its options; sent to worker threads. */
  modelOptions(options: Opts): JsonObject;
  /** Its models for those options, in table order (the first is the default reference). */
  models(modelOptions: JsonObject): UnitModel<P, O>[];
  /** Load the data and lay out the cells. Throw ConfigError / DataError naming the option or file at fault. */
  plan(options: Opts, context: PlanContext): Promise<ExperimentPlan<P, O, R>>;
}

/**
 * Build an experiment object: checks the name and adds the specification version.
 * @throws ConfigError (option `name`) for a name that is not lower-case letters, digits and '-'.
 */
export function defineExperiment<Opts extends object, P, O, R extends UnitRecord = UnitRecord>(
  def: Omit<Experiment<Opts, P, O, R>, 'specificationVersion'>,
): Experiment<Opts, P, O, R> {
  assertExperimentName(def.name);
  return { specificationVersion: EXPERIMENT_SPEC_VERSION, ...def };
}

/** @throws ConfigError unless `name` is lower-case letters, digits and '-'. */
export function assertExperimentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new ConfigError(`experiment name must be lower-case letters, digits and '-', got '${String(name)}'`, { option: 'name' });
  }
}
