import { ConfigError, DataError, optionRef, Rng } from '@chainz/core';

/** One train/test split: sorted example indices (disjoint, together all N). */
export interface Fold {
  train: Int32Array;
  test: Int32Array;
}

/** A fold of {@link repeatedStratifiedKFold}, tagged with its repeat and fold number. */
export interface RepeatedFold extends Fold {
  /** 0-based repeat. */
  repeat: number;
  /** 0-based fold within the repeat. */
  fold: number;
}

/** Example indices of each class, classes ascending. Validates the labels. */
function byClass(labels: Int32Array): number[][] {
  if (!(labels instanceof Int32Array)) throw new ConfigError('labels must be an Int32Array of class indices', { option: 'labels' });
  const groups: number[][] = [];
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c < 0) throw new ConfigError(`label ${i} is ${c}; class indices must be >= 0`, { option: 'labels' });
    (groups[c] ??= []).push(i);
  }
  return groups.filter((g) => g !== undefined);
}

function checkK(k: number, groups: number[][], labels: Int32Array): void {
  if (!Number.isInteger(k) || k < 2) throw new ConfigError(`must be an integer >= 2, got ${k}`, { option: 'k' });
  if (groups.length === 0) throw new ConfigError('no labels to split', { option: 'labels' });
  const smallest = Math.min(...groups.map((g) => g.length));
  const c = labels[groups.find((g) => g.length === smallest)![0]];
  if (smallest < 2) {
    throw new DataError(
      `too few examples per class for k-fold cross-validation: class ${c} has only ${smallest} example; at least 2 of each class are needed`,
      { option: 'labels' },
      `k-fold cross-validation needs at least k (and at least 2) examples of every class: add examples of class ${c} or remove it`,
    );
  }
  if (k > smallest) {
    throw new ConfigError(`${k} folds but class ${c} has only ${smallest} examples; every test fold needs one of each class`, { option: 'k' }, `choose ${optionRef('k')} <= ${smallest}`);
  }
}

/**
 * Deal each class's shuffled examples round-robin into k folds, continuing
 * the deal from one class to the next: each fold gets ⌊n_c/k⌋ or ⌈n_c/k⌉ of
 * class c, and fold sizes differ by at most one.
 */
function kFoldWith(rng: Rng, groups: number[][], n: number, k: number): Fold[] {
  const foldOf = new Int32Array(n);
  let pos = 0;
  for (const g of groups) {
    const idx = Int32Array.from(g);
    rng.shuffle(idx);
    for (const i of idx) foldOf[i] = pos++ % k;
  }
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const test: number[] = [];
    const train: number[] = [];
    for (let i = 0; i < n; i++) (foldOf[i] === f ? test : train).push(i);
    folds.push({ train: Int32Array.from(train), test: Int32Array.from(test) });
  }
  return folds;
}

/**
 * Stratified k-fold split, seeded with `@chainz/core`'s Rng.
 *
 * Each example is in exactly one test fold; within every fold each class c
 * has ⌊n_c/k⌋ or ⌈n_c/k⌉ test examples (class proportions kept to ±1), and
 * fold sizes differ by at most one. Same (labels, k, seed) ⇒ same folds.
 *
 * @param labels class index per example, length N (values ≥ 0).
 * @param k number of folds, 2 ≤ k ≤ smallest class count.
 * @param seed any integer.
 * @returns k folds, each `{ train, test }` with sorted indices.
 * @throws ConfigError (option `k`) if k < 2, k is not an integer or k exceeds
 *   the smallest class count; (option `labels`) for no labels or a negative label.
 * @throws DataError (option `labels`) if a class has fewer than 2 examples,
 *   too few for any k-fold split.
 */
export function stratifiedKFold(labels: Int32Array, k: number, seed: number): Fold[] {
  const groups = byClass(labels);
  checkK(k, groups, labels);
  return kFoldWith(new Rng(seed), groups, labels.length, k);
}

/**
 * Repeated stratified k-fold: `repeats` independent {@link stratifiedKFold}
 * partitions drawn from one Rng seeded with `seed` (repeat 0 equals
 * `stratifiedKFold(labels, k, seed)`).
 *
 * @param labels class index per example, length N.
 * @param k folds per repeat (2 ≤ k ≤ smallest class count).
 * @param repeats number of repeats ≥ 1.
 * @param seed any integer.
 * @returns `repeats · k` folds, repeat-major, each tagged `{ repeat, fold }`.
 * @throws ConfigError for an invalid k (see {@link stratifiedKFold}) or repeats;
 *   DataError for a class with fewer than 2 examples.
 */
export function repeatedStratifiedKFold(labels: Int32Array, k: number, repeats: number, seed: number): RepeatedFold[] {
  if (!Number.isInteger(repeats) || repeats < 1) throw new ConfigError(`must be an integer >= 1, got ${repeats}`, { option: 'repeats' });
  const groups = byClass(labels);
  checkK(k, groups, labels);
  const rng = new Rng(seed);
  const out: RepeatedFold[] = [];
  for (let r = 0; r < repeats; r++) {
    kFoldWith(rng, groups, labels.length, k).forEach((f, fold) => out.push({ ...f, repeat: r, fold }));
  }
  return out;
}

/**
 * Stratified random subsample for data-fraction sweeps: from each class c
 * keep max(1, round(fraction · n_c)) examples, chosen with a seeded Rng.
 *
 * To subsample a training fold, pass the fold's labels and map the result
 * back through the fold: `const sub = stratifiedSubsample(train.map((i) => y[i]), f, s)`;
 * then `train[sub[j]]` are the kept examples.
 *
 * @param labels class index per example, length N.
 * @param fraction share to keep, in (0, 1]; 1 keeps everything.
 * @param seed any integer.
 * @returns sorted indices into `labels`; at least one per class present.
 * @throws ConfigError for a fraction outside (0, 1] or a negative label.
 */
export function stratifiedSubsample(labels: Int32Array, fraction: number, seed: number): Int32Array {
  if (!(fraction > 0 && fraction <= 1)) throw new ConfigError(`fraction must be in (0, 1], got ${fraction}`, { option: 'fraction' });
  const groups = byClass(labels);
  const rng = new Rng(seed);
  const keep: number[] = [];
  for (const g of groups) {
    const idx = Int32Array.from(g);
    rng.shuffle(idx);
    const m = Math.min(g.length, Math.max(1, Math.round(fraction * g.length)));
    for (let i = 0; i < m; i++) keep.push(idx[i]);
  }
  return Int32Array.from(keep).sort();
}
