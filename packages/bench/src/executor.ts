import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@chainz/core';
import type { FitResult, ModelRunner, TabularFold } from './models/types';
import { capWorkers } from './cli-parsers';

/** Runs (model, fold) units, in this thread or in a pool of worker threads. */
export interface UnitExecutor {
  /** How many units may run at once. */
  readonly concurrency: number;
  run(model: string, fold: TabularFold, seed: number): Promise<FitResult>;
  close(): Promise<void>;
}

/** A task sent to a worker thread. */
export interface WorkerTask {
  experiment: string;
  /** Options that change the experiment's model configurations (e.g. `{ lambda }`), JSON-serialisable. */
  experimentOptions: Record<string, unknown>;
  model: string;
  fold: TabularFold;
  seed: number;
  backend: string;
}

/** Run units one at a time in this thread. */
export function inProcessExecutor(models: ModelRunner[]): UnitExecutor {
  return {
    concurrency: 1,
    run(model, fold, seed) {
      const m = models.find((x) => x.name === model);
      if (!m) throw new Error(`no model named ${model}`);
      return m.run(fold, seed);
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

/**
 * Run units in `workers` worker threads (tinypool). Each worker initialises
 * the same tfjs backend once and builds the experiment's models by name;
 * every unit carries its own seed, so results do not depend on scheduling.
 */
export async function workerExecutor(experiment: string, workers: number, backend: string, experimentOptions: Record<string, unknown> = {}): Promise<UnitExecutor> {
  resolveWorkers(workers);
  const file = new URL('./worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(file))) {
    throw new ConfigError('worker threads need the built package (dist/worker.js); run `pnpm build` or use --workers 1', { option: '--workers' });
  }
  const { default: Tinypool } = await import('tinypool');
  const pool = new Tinypool({ filename: file.href, minThreads: workers, maxThreads: workers, isolateWorkers: false });
  return {
    concurrency: workers,
    run(model, fold, seed) {
      const task: WorkerTask = { experiment, experimentOptions, model, fold, seed, backend };
      return pool.run(task) as Promise<FitResult>;
    },
    close: () => pool.destroy(),
  };
}
