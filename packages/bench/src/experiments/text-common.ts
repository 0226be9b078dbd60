import { existsSync } from 'node:fs';
import path from 'node:path';
import { checkWritableDir } from '../results';
import { ChainzError, ConfigError } from '@chainz/core';
import type { ModelRunner } from '../models/types';
import { resolveWorkers, inProcessExecutor, workerExecutor, type UnitExecutor } from '../executor';

/** Options shared by the text benchmarks' option checks. */
export interface CommonRunOptions {
  models?: string[];
  out?: string;
  resume?: string;
  cwd?: string;
  workers?: number;
  lambda?: number;
}

/** Check `--lambda`. @throws ConfigError (option `--lambda`). */
export function checkLambda(lambda: number | undefined): void {
  if (lambda !== undefined && !(Number.isFinite(lambda) && lambda >= 0)) throw new ConfigError(`must be a number ≥ 0, got ${lambda}`, { option: '--lambda' });
}

/** Check a positive-integer option. @throws ConfigError naming it. */
export function checkPositiveInt(v: number | undefined, option: string): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new ConfigError(`must be an integer ≥ 1, got ${v}`, { option });
}

/** Check an integer option. @throws ConfigError naming it. */
export function checkInt(v: number | undefined, option: string): void {
  if (v !== undefined && !Number.isInteger(v)) throw new ConfigError(`must be an integer, got ${v}`, { option });
}

/**
 * Keep the models named in `--models` (all when none given), in table order.
 * @throws ConfigError (option `--models`) naming unknown models and the valid ones.
 */
export function selectModels(all: ModelRunner[], names: string[] | undefined): ModelRunner[] {
  if (!names || names.length === 0) return all;
  const unknown = names.filter((m) => !all.some((x) => x.name === m));
  if (unknown.length > 0) throw new ConfigError(`unknown model(s) ${unknown.join(', ')}; choose from ${all.map((m) => m.name).join(', ')}`, { option: '--models' });
  return all.filter((m) => names.includes(m.name));
}

/**
 * Resolve the results directory and fail early (before minutes of embedding
 * or data generation) when `--resume` has nothing to resume, or `--out`
 * already holds results, is a file, or cannot be written. Relative paths start
 * from `opts.cwd` (the directory the user ran the command from).
 */
export function resolveResultsDir(opts: CommonRunOptions, fallback: string): { dir: string; resume: boolean } {
  const base = opts.cwd ?? process.cwd();
  const dir = opts.resume ? path.resolve(base, opts.resume) : path.resolve(base, opts.out ?? fallback);
  const has = existsSync(path.join(dir, 'results.json'));
  if (opts.resume && !has) throw new ChainzError('E_RESUME', 'nothing to resume: no results.json here', { file: dir });
  if (!opts.resume && has) throw new ChainzError('E_RESUME', 'this directory already holds results; use --resume to continue it or choose another --out', { file: dir });
  if (!opts.resume) checkWritableDir(dir);
  return { dir, resume: Boolean(opts.resume) };
}

/**
 * Worker threads when asked for or available (the built package), else this
 * thread (running from sources, e.g. tests).
 */
export async function makeExecutor(experiment: string, models: ModelRunner[], backend: string, workers: number | undefined, experimentOptions: Record<string, unknown>): Promise<UnitExecutor> {
  const n = resolveWorkers(workers);
  if (n > 1) {
    try {
      return await workerExecutor(experiment, n, backend, experimentOptions);
    } catch (e) {
      if (workers !== undefined) throw e;
    }
  }
  return inProcessExecutor(models);
}
