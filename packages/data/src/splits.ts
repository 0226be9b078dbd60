import { ConfigError, DataError, optionClause, optionRef, Rng } from '@chainz/core';

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

/** What {@link planStratifiedFolds} does with a class that has a single example. */
export type SingletonClassPolicy = 'error' | 'drop';

/** Options shared by the stratified splitters. */
export interface StratifiedFoldOptions {
  /**
   * A class with a single example cannot be both trained on and tested:
   * `'error'` (default) refuses it with a DataError; `'drop'` leaves its
   * examples out of every fold (neither train nor test) and says so in the
   * plan's `notes`.
   */
  singletonClasses?: SingletonClassPolicy;
  /** Class names by index, used in notes and errors (default: the index). */
  classNames?: readonly string[];
}

function className(c: number, names?: readonly string[]): string {
  return names?.[c] !== undefined ? `'${names[c]}'` : String(c);
}

/**
 * Validate k against the data and apply the singleton policy.
 * @returns the classes kept (example indices per class, classes ascending)
 *   and the classes dropped.
 */
function checkK(k: number, groups: number[][], labels: Int32Array, opts: StratifiedFoldOptions): { kept: number[][]; dropped: number[][] } {
  if (!Number.isInteger(k) || k < 2) throw new ConfigError(`must be an integer >= 2, got ${k}`, { option: 'k' });
  if (groups.length === 0) throw new ConfigError('no labels to split', { option: 'labels' });
  const policy = opts.singletonClasses ?? 'error';
  if (policy !== 'error' && policy !== 'drop') {
    throw new ConfigError(`singletonClasses must be 'error' or 'drop', got ${JSON.stringify(policy)}`, { option: 'singletonClasses' });
  }
  const dropped = groups.filter((g) => g.length < 2);
  if (dropped.length > 0 && policy === 'error') {
    const c = labels[dropped[0][0]];
    const more = dropped.length > 1 ? ` (and ${dropped.length - 1} more class${dropped.length > 2 ? 'es' : ''} with one example)` : '';
    throw new DataError(
      `too few examples per class for k-fold cross-validation: class ${className(c, opts.classNames)} has only 1 example${more}; at least 2 of each class are needed`,
      { option: 'labels' },
      `a class with one example cannot be both trained on and tested: add examples of class ${className(c, opts.classNames)}${optionClause('singletonClasses', `, remove it, or pass ${optionRef('singletonClasses')} 'drop' to leave such classes out of every fold`, ', or fix or remove its row (is the label a typo?)')}`,
    );
  }
  const kept = groups.filter((g) => g.length >= 2);
  if (kept.length < 2) {
    throw new DataError(
      `only ${kept.length} class${kept.length === 1 ? '' : 'es'} with at least 2 examples${dropped.length > 0 ? ` after leaving out ${dropped.length} class${dropped.length > 1 ? 'es' : ''} with one example` : ''}; classification needs at least two`,
      { option: 'labels' },
    );
  }
  const n = kept.reduce((s, g) => s + g.length, 0);
  if (k > n) throw new ConfigError(`${k} folds but only ${n} examples to split; every test fold needs at least one`, { option: 'k' }, `choose ${optionRef('k')} <= ${n}`);
  return { kept, dropped };
}

/**
 * Deal each class's shuffled examples round-robin into k folds, continuing
 * the deal from one class to the next: each fold gets ⌊n_c/k⌋ or ⌈n_c/k⌉ of
 * class c, and fold sizes differ by at most one. A class with n_c < k
 * examples lands in n_c different test folds (one example each). Examples
 * of classes not in `groups` (dropped singletons) are in no fold.
 */
function kFoldWith(rng: Rng, groups: number[][], n: number, k: number): Fold[] {
  const foldOf = new Int32Array(n).fill(-1);
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
    for (let i = 0; i < n; i++) {
      if (foldOf[i] < 0) continue;
      (foldOf[i] === f ? test : train).push(i);
    }
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
 * Classes smaller than k: a class with 2 ≤ n_c < k examples is dealt into
 * n_c different test folds (one each), so k − n_c test folds lack it and
 * every training fold keeps at least n_c − 1 ≥ 1 of it. A class with a
 * single example is refused (or left out, see
 * {@link StratifiedFoldOptions.singletonClasses}). {@link planStratifiedFolds}
 * returns the same folds together with notes that say this for a results file.
 *
 * @param labels class index per example, length N (values ≥ 0).
 * @param k number of folds, 2 ≤ k ≤ N.
 * @param seed any integer.
 * @param options singleton policy and class names (see {@link StratifiedFoldOptions}).
 * @returns k folds, each `{ train, test }` with sorted indices.
 * @throws ConfigError (option `k`) if k < 2, k is not an integer or k exceeds
 *   the number of examples; (option `labels`) for no labels or a negative label.
 * @throws DataError (option `labels`) if a class has a single example (with
 *   `singletonClasses: 'error'`, the default) or fewer than two classes have
 *   at least 2 examples.
 */
export function stratifiedKFold(labels: Int32Array, k: number, seed: number, options: StratifiedFoldOptions = {}): Fold[] {
  const { kept } = checkK(k, byClass(labels), labels, options);
  return kFoldWith(new Rng(seed), kept, labels.length, k);
}

/**
 * Repeated stratified k-fold: `repeats` independent {@link stratifiedKFold}
 * partitions drawn from one Rng seeded with `seed` (repeat 0 equals
 * `stratifiedKFold(labels, k, seed)`).
 *
 * @param labels class index per example, length N.
 * @param k folds per repeat (2 ≤ k ≤ N; classes smaller than k as in {@link stratifiedKFold}).
 * @param repeats number of repeats ≥ 1.
 * @param seed any integer.
 * @param options singleton policy and class names (see {@link StratifiedFoldOptions}).
 * @returns `repeats · k` folds, repeat-major, each tagged `{ repeat, fold }`.
 * @throws ConfigError for an invalid k (see {@link stratifiedKFold}) or repeats;
 *   DataError for a class with a single example (unless dropped).
 */
export function repeatedStratifiedKFold(labels: Int32Array, k: number, repeats: number, seed: number, options: StratifiedFoldOptions = {}): RepeatedFold[] {
  if (!Number.isInteger(repeats) || repeats < 1) throw new ConfigError(`must be an integer >= 1, got ${repeats}`, { option: 'repeats' });
  const { kept } = checkK(k, byClass(labels), labels, options);
  const rng = new Rng(seed);
  const out: RepeatedFold[] = [];
  for (let r = 0; r < repeats; r++) {
    kFoldWith(rng, kept, labels.length, k).forEach((f, fold) => out.push({ ...f, repeat: r, fold }));
  }
  return out;
}

/** A class with fewer than k examples, as reported by {@link planStratifiedFolds}. */
export interface SmallClass {
  /** Class index. */
  class: number;
  /** Class name when `classNames` was given. */
  name?: string;
  /** Number of examples of the class. */
  count: number;
  /** What happened: tested in `count` of the k folds, or left out (a single example, `singletonClasses: 'drop'`). */
  handling: 'spread' | 'dropped';
}

/** What {@link planStratifiedFolds} returns. */
export interface FoldPlan {
  /** `repeats · k` folds, identical to `repeatedStratifiedKFold(labels, k, repeats, seed, options)`. */
  folds: RepeatedFold[];
  /** Classes with fewer than k examples (empty when every class has ≥ k). */
  smallClasses: SmallClass[];
  /** Sorted indices of the examples in no fold (dropped single-example classes); empty by default. */
  dropped: Int32Array;
  /**
   * One line per small or dropped class, for a results file or a terminal,
   * e.g. "class 'Bpv.Close' has 4 examples, fewer than 5 folds: each is
   * tested in a different fold, so 1 of 5 test folds per repeat lack it;
   * every training fold keeps at least 3". Empty when every class has ≥ k.
   */
  notes: string[];
}

/** Options of {@link planStratifiedFolds}. */
export interface FoldPlanOptions extends StratifiedFoldOptions {
  /** Number of folds, 2 ≤ k ≤ N. */
  k: number;
  /** Repeats ≥ 1; default 1. */
  repeats?: number;
  /** Any integer. */
  seed: number;
}

/**
 * Repeated stratified k-fold plus an account of the classes smaller than k —
 * what an experiment runner records so that a reader of the results knows
 * which test folds lack a class. The folds are exactly those of
 * {@link repeatedStratifiedKFold} with the same arguments (for data where
 * every class has ≥ k examples, the same folds as before small classes were
 * allowed).
 *
 * @param labels class index per example, length N.
 * @param options `k`, `repeats` (1), `seed`, `singletonClasses` ('error'), `classNames`.
 * @returns the folds, the small classes, the dropped example indices and notes.
 * @throws as {@link repeatedStratifiedKFold}.
 */
export function planStratifiedFolds(labels: Int32Array, options: FoldPlanOptions): FoldPlan {
  const { k, repeats = 1, seed } = options;
  const folds = repeatedStratifiedKFold(labels, k, repeats, seed, options);
  const groups = byClass(labels);
  const smallClasses: SmallClass[] = [];
  const notes: string[] = [];
  const dropped: number[] = [];
  for (const g of groups) {
    if (g.length >= k) continue;
    const c = labels[g[0]];
    const name = options.classNames?.[c];
    const cls = className(c, options.classNames);
    if (g.length < 2) {
      smallClasses.push({ class: c, ...(name !== undefined ? { name } : {}), count: g.length, handling: 'dropped' });
      dropped.push(...g);
      notes.push(`class ${cls} has a single example (index ${g[0]}): left out of every fold (singletonClasses 'drop')`);
    } else {
      smallClasses.push({ class: c, ...(name !== undefined ? { name } : {}), count: g.length, handling: 'spread' });
      notes.push(
        `class ${cls} has ${g.length} examples, fewer than ${k} folds: each is tested in a different fold, so ${k - g.length} of ${k} test folds per repeat lack it; every training fold keeps at least ${g.length - 1}`,
      );
    }
  }
  if (dropped.length > 0) notes.push(`${dropped.length} of ${labels.length} examples are in no fold; results cover the other ${labels.length - dropped.length}`);
  return { folds, smallClasses, dropped: Int32Array.from(dropped).sort(), notes };
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
