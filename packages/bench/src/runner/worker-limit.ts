import { availableParallelism, freemem } from 'node:os';
import { ConfigError } from '@chainz/core';

/**
 * How many worker threads a run may start (`--workers`): bounded by the
 * cores and by the free memory, with a message naming the limit and why.
 */

/** Memory one worker thread takes (tfjs + wasm backend + one unit's tensors), measured at 65–70 MB. */
export const WORKER_BYTES = 70 * 1024 * 1024;

/** Machine facts the worker limit depends on (defaults: this machine, now). */
export interface WorkerLimitInput {
  /** Logical cores (`os.availableParallelism()`). */
  cores?: number;
  /** Free memory in bytes (`os.freemem()`). */
  freeBytes?: number;
}

/** The worker limit and what it comes from. */
export interface WorkerLimit {
  /** Largest allowed `--workers`. */
  max: number;
  /** 2 × cores: more CPU-bound workers than that only queue for the cores. */
  byCores: number;
  /** ⌊¾ of free memory / {@link WORKER_BYTES}⌋: more would push the machine into swap or the OOM killer. */
  byMemory: number;
  cores: number;
  freeBytes: number;
}

/**
 * The most worker threads worth starting here: min(2 × cores, ⌊0.75 × free
 * memory / 70 MB⌋), at least 1. Units are CPU-bound, so beyond the cores extra
 * workers only queue; each costs about 70 MB, and ¼ of the free memory is left
 * for the main thread and everything else.
 */
export function maxWorkers(input: WorkerLimitInput = {}): WorkerLimit {
  const cores = Math.max(1, input.cores ?? availableParallelism());
  const freeBytes = Math.max(0, input.freeBytes ?? freemem());
  const byCores = 2 * cores;
  const byMemory = Math.floor((0.75 * freeBytes) / WORKER_BYTES);
  return { max: Math.max(1, Math.min(byCores, byMemory)), byCores, byMemory, cores, freeBytes };
}

/**
 * Check a requested `--workers` against {@link maxWorkers}.
 * @returns `requested` when it is within the limit.
 * @throws ConfigError (option `--workers`) naming the limit and why, for a
 *   count above it, or for 0, a negative or fractional count.
 */
export function capWorkers(requested: number, input: WorkerLimitInput = {}): number {
  if (!Number.isInteger(requested) || requested < 1) throw new ConfigError(`must be an integer ≥ 1, got ${requested}`, { option: '--workers' });
  const limit = maxWorkers(input);
  if (requested > limit.max) {
    const why =
      limit.max === limit.byCores
        ? `2 × the ${limit.cores} core${limit.cores === 1 ? '' : 's'}: more workers only queue for them`
        : `${(limit.freeBytes / 1e9).toFixed(1)} GB free memory at ~${Math.round(WORKER_BYTES / 1e6)} MB per worker`;
    throw new ConfigError(`${requested} is more than this machine can run: at most ${limit.max} (${why})`, { option: '--workers' }, `use --workers ${limit.max} or fewer`);
  }
  return requested;
}
