import { availableParallelism, freemem } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { ConfigError } from '@chainz/core';

/**
 * Strict parsers of CLI option values, for commander's `.option(flags,
 * description, parser)`. Each rejects with commander's InvalidArgumentError
 * (printed as `error: option '--x <v>' argument 'v' is invalid. …`), so an
 * empty, blank, hexadecimal or otherwise odd value is never read as 0, NaN or
 * something else than what was typed.
 */

/** A plain decimal number: digits, optional fraction, optional exponent (`0.01`, `.5`, `3e-3`, `1E2`). */
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * `--lambda`: a decimal number ≥ 0, finite (`0`, `0.003`, `1e-2`, `10`).
 * Refused: `''` and blanks (`Number('')` is 0: DREG would be off without a
 * word), hexadecimal/octal/binary (`0x10` is 16 to `Number`), `Infinity`,
 * negative values, anything that overflows to ±Infinity (`1e309`).
 * @param value the text the user typed.
 * @returns λ.
 * @throws InvalidArgumentError naming `--lambda` and the rule.
 */
export function parseLambda(value: string): number {
  return parseDecimal('--lambda', value);
}

/**
 * A parser of a non-negative decimal option (same rules as {@link parseLambda}).
 * @param name the flag, e.g. `--lambda`, used in the message.
 */
export function decimalOption(name: string): (value: string) => number {
  return (value: string) => parseDecimal(name, value);
}

function parseDecimal(name: string, value: string): number {
  const v = String(value);
  const x = DECIMAL.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(x)) {
    throw new InvalidArgumentError(`${name} must be a decimal number ≥ 0 such as 0.003 or 1e-3, got ${JSON.stringify(v)}.`);
  }
  return x;
}

/**
 * A parser of an integer option in `[min, max]` (inclusive): optional sign
 * and decimal digits only, no blanks, no exponent, no hexadecimal.
 * @param name the flag, e.g. `--folds`, used in the message.
 * @returns the parser (value → integer).
 */
export function intOption(name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const v = String(value);
    const x = /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(x)) throw new InvalidArgumentError(`${name} must be an integer, got ${JSON.stringify(v)}.`);
    if (x < min || x > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER ? `${name} must be an integer ≥ ${min}, got ${x}.` : `${name} must be an integer from ${min} to ${max}, got ${x}.`,
      );
    }
    return x;
  };
}

/**
 * Largest `--repeats` (repetitions of k-fold): 100, i.e. 1,000 units per model
 * at 10 folds — ten times the `full` protocol (10 × 10-fold).
 */
export const MAX_REPEATS = 100;

/** Largest `--seeds` (training seeds per model): 100. */
export const MAX_SEEDS = 100;

/** `--repeats`: an integer from 1 to {@link MAX_REPEATS}. */
export const parseRepeats = intOption('--repeats', 1, MAX_REPEATS);

/** `--seeds`: an integer from 1 to {@link MAX_SEEDS}. */
export const parseSeeds = intOption('--seeds', 1, MAX_SEEDS);

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
