/**
 * Shifts of standardised tabular features for `chainz bench tau-shift`:
 * Gaussian feature noise and feature dropout (missing completely at random,
 * replaced by the training mean), drawn from a seeded generator.
 */
import { ConfigError, Rng } from '@chainz/core';
import { TABULAR_SHIFTS } from './config';

/**
 * Kinds of shift: `clean` (no shift), `gaussian-noise` and `feature-dropout`
 * (tabular), `corruption` (CIFAR-10-C; the corruption's name is in
 * {@link ShiftLevel.shift}).
 */
export type ShiftFamily = 'clean' | 'gaussian-noise' | 'feature-dropout' | 'corruption';

/** One shift level of a data source. */
export interface ShiftLevel {
  family: ShiftFamily;
  /** `none`, `gaussian-noise`, `feature-dropout`, or the CIFAR-10-C corruption (e.g. `fog`). */
  shift: string;
  /** σ (noise), p (dropout), the severity 1–5 (corruption), 0 for clean. */
  strength: number;
}

/**
 * Gaussian feature noise on standardised features: x' = x + σ·ε, ε ~ N(0, 1)
 * independently per entry.
 * @param x `[n, d]` row-major standardised features (not modified).
 * @param sigma σ ≥ 0 in standard deviations of the training features.
 * @returns a new `[n, d]` array.
 * @throws ConfigError (option `sigma`) for σ < 0 or not finite.
 */
export function gaussianNoise(x: Float32Array, sigma: number, rng: Rng): Float32Array {
  if (!(Number.isFinite(sigma) && sigma >= 0)) throw new ConfigError(`sigma must be a finite number ≥ 0, got ${sigma}`, { option: 'sigma' });
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + sigma * rng.normal();
  return out;
}

/**
 * Feature dropout on standardised features: each entry is replaced,
 * independently with probability p, by the training mean of its feature —
 * 0 after standardisation (missing completely at random + mean imputation).
 * @param x `[n, d]` row-major standardised features (not modified).
 * @param p probability in [0, 1].
 * @returns a new `[n, d]` array.
 * @throws ConfigError (option `p`) for p outside [0, 1].
 */
export function featureDropout(x: Float32Array, p: number, rng: Rng): Float32Array {
  if (!(p >= 0 && p <= 1)) throw new ConfigError(`p must be in [0, 1], got ${p}`, { option: 'p' });
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = rng.next() < p ? 0 : x[i];
  return out;
}

/** A shifted copy of a test part: the level, its features `[repeats·n, d]` and how many corrupted copies of the n test rows it holds. */
export interface ShiftedSet {
  level: ShiftLevel;
  /** `[repeats·n, d]` row-major; copy r holds rows r·n … (r+1)·n − 1 (labels: the test labels repeated). */
  x: Float32Array;
  repeats: number;
}

/** Copies of the test part per shifted set: r = ⌈minRows / n⌉ (at least 1). */
export function shiftRepeats(nTest: number, minRows: number = TABULAR_SHIFTS.minRows): number {
  return Math.max(1, Math.ceil(minRows / Math.max(1, nTest)));
}

/**
 * The tabular shift levels of one (data set, seed) cell: the clean test part,
 * then Gaussian noise at every σ and feature dropout at every p of
 * {@link TABULAR_SHIFTS}, each drawn r = {@link shiftRepeats} times over the
 * test rows, from one generator seeded with `seed` (so every model of the cell
 * sees the same shifted rows).
 * @param xTest `[n, d]` standardised test features.
 */
export function tabularShiftedSets(
  xTest: Float32Array,
  nTest: number,
  seed: number,
  shifts: { gaussianNoise: readonly number[]; featureDropout: readonly number[]; minRows: number } = TABULAR_SHIFTS,
): ShiftedSet[] {
  const rng = new Rng(seed);
  const repeats = shiftRepeats(nTest, shifts.minRows);
  const tiled = new Float32Array(xTest.length * repeats);
  for (let r = 0; r < repeats; r++) tiled.set(xTest, r * xTest.length);
  const sets: ShiftedSet[] = [{ level: { family: 'clean', shift: 'none', strength: 0 }, x: xTest, repeats: 1 }];
  for (const sigma of shifts.gaussianNoise) sets.push({ level: { family: 'gaussian-noise', shift: 'gaussian-noise', strength: sigma }, x: gaussianNoise(tiled, sigma, rng), repeats });
  for (const p of shifts.featureDropout) sets.push({ level: { family: 'feature-dropout', shift: 'feature-dropout', strength: p }, x: featureDropout(tiled, p, rng), repeats });
  return sets;
}
