/**
 * Executors: where units run. The same task — experiment name, JSON model
 * options, model name, payloads and seeds — runs in this thread, in a pool of
 * worker threads, or (see `queue/`) on a worker process on another machine,
 * and gives the same output: every unit carries its own seed, so results do
 * not depend on where or in which order units run.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ChainzError, ConfigError, type ChainzErrorCode } from '@chainz/core';
import type { CellKey, Experiment, JsonObject, UnitModel } from './contract';
import { capWorkers } from './worker-limit';

/**
 * What identifies the run a task belongs to. Queue workers rebuild the
 * fingerprint from these parts and their own models' configurations, and
 * refuse a unit whose fingerprint or package version differs from theirs.
 */
export interface TaskIdentity {
  /** The run's fingerprint (sha256, hex) from {@link experimentFingerprint}'s parts below and the models' configurations. */
  fingerprint: string;
  /** The plan's key fields, protocol and data checksums (as in the fingerprint). */
  keyFields: string[];
  protocol: Record<string, unknown>;
  dataFingerprint: string;
  /** Names of the run's models, in order (their configurations come from the code that runs them). */
  models: string[];
  /** Version of @chainz/bench that planned the run. */
  version: string;
}

/** Several units of one model (one unit for most models; a batch for models with `runBatch`). */
export interface UnitTask<P> {
  /** Registered experiment name (looked up in worker threads and queue workers). */
  experiment: string;
  /** The experiment's JSON model options. */
  modelOptions: JsonObject;
  model: string;
  payloads: P[];
  seeds: number[];
  /** The units' cell keys, in the order of `payloads` (runExperiment sets them; queue job ids derive from them). */
  cells?: CellKey[];
  /** The run's identity (runExperiment sets it; queue workers check it). */
  identity?: TaskIdentity;
}

/** Runs unit tasks. */
export interface UnitExecutor {
  /** How many tasks may run at once. */
  readonly concurrency: number;
  /** Where units run, for results.json (`in-process`, `worker threads`, `queue redis://…`). */
  readonly kind: string;
  /** Outputs in the order of `task.payloads`. */
  run<P, O>(task: UnitTask<P>): Promise<O[]>;
  close(): Promise<void>;
}

/** A task sent to a worker thread. */
export interface WorkerTask<P = unknown> extends UnitTask<P> {
  /** tfjs backend to initialise in the worker. */
  backend: string;
  /** Plugin module URLs to import in the worker before looking the experiment up. */
  plugins: string[];
}

/** An error as plain data (worker threads, queues): enough to rebuild a ChainzError with its class name. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  hint?: string;
  location?: Record<string, unknown>;
  stack?: string;
}

/** What a worker thread sends back for a task. */
export type WorkerReply = { outputs: unknown[]; error?: undefined } | { error: SerializedError; outputs?: undefined };

/** An error as data (name, message, code, hint, location, stack). */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    const x = e as Error & { code?: unknown; hint?: unknown; location?: unknown };
    return {
      name: x.name,
      message: x.message,
      ...(typeof x.code === 'string' ? { code: x.code } : {}),
      ...(typeof x.hint === 'string' ? { hint: x.hint } : {}),
      ...(x.location && typeof x.location === 'object' ? { location: { ...(x.location as Record<string, unknown>) } } : {}),
      ...(x.stack ? { stack: x.stack } : {}),
    };
  }
  return { name: 'Error', message: String(e) };
}

/**
 * The error a {@link SerializedError} describes: a ChainzError (same code,
 * hint and class name; the message already carries the location) when it had
 * a code, else an Error with its name.
 */
export function deserializeError(s: SerializedError): Error {
  let e: Error;
  if (s.code && s.code.startsWith('E_')) {
    e = new ChainzError(s.code as ChainzErrorCode, s.message, {}, s.hint);
    Object.defineProperty(e, 'location', { value: s.location ?? {}, enumerable: true });
  } else e = new Error(s.message);
  e.name = s.name;
  if (s.stack) e.stack = s.stack;
  return e;
}

/**
 * Run a task with a model: `runBatch` for several payloads when the model has
 * it, else one `run` after another.
 */
export async function runWithModel<P, O>(model: UnitModel<P, O>, payloads: P[], seeds: number[]): Promise<O[]> {
  if (payloads.length > 1 && model.runBatch) return model.runBatch(payloads, seeds);
  const out: O[] = [];
  for (let i = 0; i < payloads.length; i++) out.push(await model.run(payloads[i], seeds[i]));
  return out;
}

/** Models of an experiment for some model options, built once per options (in this thread or in a worker). */
export function modelCache(): (experiment: Experiment<any, any, any, any>, modelOptions: JsonObject, name: string) => UnitModel<unknown, unknown> {
  const cache = new Map<string, UnitModel<unknown, unknown>[]>();
  return (experiment, modelOptions, name) => {
    const key = `${experiment.name}\u0000${JSON.stringify(modelOptions)}`;
    let models = cache.get(key);
    if (!models) {
      models = experiment.models(modelOptions) as UnitModel<unknown, unknown>[];
      cache.set(key, models);
    }
    const m = models.find((x) => x.name === name);
    if (!m) throw new ConfigError(`experiment '${experiment.name}' has no model '${name}'; it has ${models.map((x) => x.name).join(', ')}`, { option: '--models' });
    return m;
  };
}

/** Run tasks one at a time in this thread, with the experiment object itself (it need not be registered). */
export function inProcessExecutor(experiment: Experiment<any, any, any, any>): UnitExecutor {
  const modelOf = modelCache();
  return {
    concurrency: 1,
    kind: 'in-process',
    run<P, O>(task: UnitTask<P>) {
      return runWithModel(modelOf(experiment, task.modelOptions, task.model) as UnitModel<P, O>, task.payloads, task.seeds);
    },
    async close() {},
  };
}

/** Default number of worker threads: the machine's parallelism, at most 4. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * The worker count of a run: `requested` when given (an integer ≥ 1, at most
 * {@link maxWorkers}: 2 × cores and what ¾ of the free memory holds at
 * ~70 MB per worker), else {@link defaultWorkers}.
 * @throws ConfigError (option `--workers`) for 0, a negative or a fractional
 *   count, or one above the limit (the message names the limit and why).
 */
export function resolveWorkers(requested: number | undefined): number {
  if (requested === undefined) return defaultWorkers();
  return capWorkers(requested);
}

/** True when the worker-thread entry has been built (running from sources, e.g. in tests, it has not). */
export function workerBundleAvailable(): boolean {
  return existsSync(fileURLToPath(new URL('./worker.js', import.meta.url)));
}

/**
 * Run tasks in `workers` worker threads (tinypool). Each worker initialises
 * the tfjs backend once, imports the plugins, and builds the experiment's
 * models by name from the JSON model options.
 * @throws ConfigError (option `--workers`) when the worker bundle is not built.
 */
export async function workerExecutor(workers: number, backend: string, plugins: string[] = []): Promise<UnitExecutor> {
  resolveWorkers(workers);
  const file = new URL('./worker.js', import.meta.url);
  if (!workerBundleAvailable()) {
    throw new ConfigError('worker threads need the built package (dist/worker.js); run `pnpm build` or use --workers 1', { option: '--workers' });
  }
  const { default: Tinypool } = await import('tinypool');
  const pool = new Tinypool({ filename: file.href, minThreads: workers, maxThreads: workers, isolateWorkers: false });
  return {
    concurrency: workers,
    kind: `worker threads (${workers})`,
    async run<P, O>(task: UnitTask<P>) {
      const t: WorkerTask<P> = { ...task, backend, plugins };
      const reply = (await pool.run(t)) as WorkerReply;
      if (reply.error) throw deserializeError(reply.error);
      return reply.outputs as O[];
    },
    close: () => pool.destroy(),
  };
}
