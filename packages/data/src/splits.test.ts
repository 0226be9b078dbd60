import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '@chainz/core';
import { planStratifiedFolds, repeatedStratifiedKFold, stratifiedKFold, stratifiedSubsample, type Fold } from './splits';

/** Pima-sized labels: 512 of class 0, 256 of class 1, interleaved. */
const PIMA = Int32Array.from({ length: 768 }, (_, i) => (i % 3 === 0 ? 1 : 0));
const THREE = Int32Array.from({ length: 103 }, (_, i) => (i < 60 ? 0 : i < 90 ? 2 : 1)); // 60 / 13 / 30

function checkPartition(labels: Int32Array, folds: Fold[], k: number): void {
  expect(folds.length).toBe(k);
  const n = labels.length;
  const timesInTest = new Int32Array(n);
  const classes = [...new Set(labels)];
  const sizes = folds.map((f) => f.test.length);
  expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  for (const f of folds) {
    expect(f.train.length + f.test.length).toBe(n);
    expect([...f.test]).toEqual([...f.test].sort((a, b) => a - b));
    expect([...f.train]).toEqual([...f.train].sort((a, b) => a - b));
    const inTest = new Set(f.test);
    for (const i of f.train) expect(inTest.has(i)).toBe(false);
    for (const i of f.test) timesInTest[i]++;
    for (const c of classes) {
      const nc = labels.filter((v) => v === c).length;
      const inFold = f.test.filter((i) => labels[i] === c).length;
      expect(inFold).toBeGreaterThanOrEqual(Math.floor(nc / k));
      expect(inFold).toBeLessThanOrEqual(Math.ceil(nc / k));
    }
  }
  expect([...timesInTest].every((t) => t === 1)).toBe(true);
}

describe('stratifiedKFold', () => {
  it('partitions with class proportions kept to ±1 per fold', () => {
    expect(PIMA.reduce((s, v) => s + v, 0)).toBe(256);
    checkPartition(PIMA, stratifiedKFold(PIMA, 10, 1), 10);
    checkPartition(PIMA, stratifiedKFold(PIMA, 5, 2), 5);
    checkPartition(THREE, stratifiedKFold(THREE, 13, 3), 13);
    checkPartition(THREE, stratifiedKFold(THREE, 2, 4), 2);
  });

  it('is deterministic per seed and differs between seeds', () => {
    const a = stratifiedKFold(PIMA, 10, 42);
    expect(stratifiedKFold(PIMA, 10, 42)).toEqual(a);
    expect(stratifiedKFold(PIMA, 10, 43)[0].test).not.toEqual(a[0].test);
  });

  it('rejects k < 2, non-integer k, k above the number of examples and negative labels', () => {
    expect(() => stratifiedKFold(PIMA, 1, 0)).toThrow(ConfigError);
    expect(() => stratifiedKFold(PIMA, 1, 0)).toThrow('option k: must be an integer >= 2, got 1');
    expect(() => stratifiedKFold(PIMA, 2.5, 0)).toThrow(ConfigError);
    const tooMany = (() => {
      try {
        stratifiedKFold(THREE, 104, 0);
      } catch (e) {
        return e as ConfigError;
      }
    })()!;
    expect(tooMany).toBeInstanceOf(ConfigError);
    expect(tooMany.message).toBe('option k: 104 folds but only 103 examples to split; every test fold needs at least one');
    expect(tooMany.hint).toBe('choose `k` <= 103');
    // a CLI respells k as its flag
    expect(tooMany.withOptionNames({ k: '--folds' }).hint).toBe('choose --folds <= 103');
    expect(() => stratifiedKFold(Int32Array.from([0, 1, -1, 0]), 2, 0)).toThrow(/label 2 is -1/);
    expect(() => stratifiedKFold(new Int32Array(0), 2, 0)).toThrow(ConfigError);
  });

  it('a class with a single example is a data problem, not a bad k (no hint to use k <= 1)', () => {
    const labels = Int32Array.from([0, 1, 1, 1]);
    let err: DataError | undefined;
    try {
      stratifiedKFold(labels, 2, 0);
    } catch (e) {
      err = e as DataError;
    }
    expect(err).toBeInstanceOf(DataError);
    expect(err!.message).toBe('option labels: too few examples per class for k-fold cross-validation: class 0 has only 1 example; at least 2 of each class are needed');
    expect(err!.hint).not.toMatch(/k <= 1/);
    expect(() => repeatedStratifiedKFold(labels, 10, 1, 0)).toThrow(DataError);
  });
});

describe('repeatedStratifiedKFold', () => {
  it('gives repeats × k tagged folds; repeat 0 equals stratifiedKFold with the same seed', () => {
    const folds = repeatedStratifiedKFold(PIMA, 10, 3, 7);
    expect(folds.length).toBe(30);
    expect(folds.map((f) => [f.repeat, f.fold])).toEqual(Array.from({ length: 30 }, (_, i) => [Math.floor(i / 10), i % 10]));
    const single = stratifiedKFold(PIMA, 10, 7);
    for (let f = 0; f < 10; f++) expect(folds[f].test).toEqual(single[f].test);
    for (let r = 0; r < 3; r++) checkPartition(PIMA, folds.slice(r * 10, r * 10 + 10), 10);
    expect(folds[10].test).not.toEqual(folds[0].test);
    expect(repeatedStratifiedKFold(PIMA, 10, 3, 7)).toEqual(folds);
  });

  it('rejects bad repeats and k', () => {
    expect(() => repeatedStratifiedKFold(PIMA, 10, 0, 1)).toThrow('option repeats: must be an integer >= 1, got 0');
    expect(() => repeatedStratifiedKFold(THREE, 200, 2, 1)).toThrow(/option k/);
  });
});

/** Shuttle-like imbalance: 40 / 30 / 4 / 2 examples (classes 2 and 3 smaller than k = 5). */
const SMALL = Int32Array.from([...Array(40).fill(0), ...Array(30).fill(1), ...Array(4).fill(2), ...Array(2).fill(3)]);

describe('classes smaller than k', () => {
  it('spreads a small class over as many test folds as it has examples; every training fold keeps one', () => {
    for (const seed of [0, 1, 2]) {
      const folds = stratifiedKFold(SMALL, 5, seed);
      // the ±1 proportion and the exact-partition properties hold for small classes too
      checkPartition(SMALL, folds, 5);
      for (const [c, nc] of [[2, 4], [3, 2]]) {
        const testFoldsWith = folds.filter((f) => f.test.some((i) => SMALL[i] === c)).length;
        expect(testFoldsWith).toBe(nc);
        for (const f of folds) expect(f.train.filter((i) => SMALL[i] === c).length).toBeGreaterThanOrEqual(nc - 1);
      }
    }
  });

  it('planStratifiedFolds returns the same folds and one note per small class', () => {
    const plan = planStratifiedFolds(SMALL, { k: 5, repeats: 2, seed: 3, classNames: ['a', 'b', 'c', 'd'] });
    expect(plan.folds).toEqual(repeatedStratifiedKFold(SMALL, 5, 2, 3));
    expect(plan.dropped.length).toBe(0);
    expect(plan.smallClasses).toEqual([
      { class: 2, name: 'c', count: 4, handling: 'spread' },
      { class: 3, name: 'd', count: 2, handling: 'spread' },
    ]);
    expect(plan.notes).toEqual([
      "class 'c' has 4 examples, fewer than 5 folds: each is tested in a different fold, so 1 of 5 test folds per repeat lack it; every training fold keeps at least 3",
      "class 'd' has 2 examples, fewer than 5 folds: each is tested in a different fold, so 3 of 5 test folds per repeat lack it; every training fold keeps at least 1",
    ]);
    // no small class: no notes
    expect(planStratifiedFolds(PIMA, { k: 10, seed: 0 }).notes).toEqual([]);
  });

  it('a single-example class is refused by default and left out of every fold with singletonClasses: drop', () => {
    const one = Int32Array.from([...SMALL, 4]);
    expect(() => planStratifiedFolds(one, { k: 5, seed: 0, classNames: ['a', 'b', 'c', 'd', 'e'] })).toThrow(
      "option labels: too few examples per class for k-fold cross-validation: class 'e' has only 1 example; at least 2 of each class are needed",
    );
    const err = (() => {
      try {
        planStratifiedFolds(one, { k: 5, seed: 0, classNames: ['a', 'b', 'c', 'd', 'e'] });
      } catch (e) {
        return e as DataError;
      }
    })()!;
    expect(err.hint).toBe("a class with one example cannot be both trained on and tested: add examples of class 'e', remove it, or pass `singletonClasses` 'drop' to leave such classes out of every fold");
    // a caller without singletonClasses (the CLI): fix the data instead
    expect(err.withOptionNames({ singletonClasses: null }).hint).toBe(
      "a class with one example cannot be both trained on and tested: add examples of class 'e', or fix or remove its row (is the label a typo?)",
    );
    const plan = planStratifiedFolds(one, { k: 5, seed: 0, singletonClasses: 'drop' });
    expect([...plan.dropped]).toEqual([76]);
    for (const f of plan.folds) {
      expect(f.train.includes(76) || f.test.includes(76)).toBe(false);
      expect(f.train.length + f.test.length).toBe(76);
    }
    // dropping the singleton leaves the other classes' folds exactly as without it
    expect(plan.folds).toEqual(repeatedStratifiedKFold(SMALL, 5, 1, 0));
    expect(plan.notes.at(-2)).toBe("class 4 has a single example (index 76): left out of every fold (singletonClasses 'drop')");
    expect(plan.notes.at(-1)).toBe('1 of 77 examples are in no fold; results cover the other 76');
    expect(() => planStratifiedFolds(one, { k: 5, seed: 0, singletonClasses: 'keep' as never })).toThrow(/singletonClasses must be 'error' or 'drop'/);
    // two singleton classes are counted in the message
    expect(() => stratifiedKFold(Int32Array.from([0, 0, 1, 2]), 2, 0)).toThrow(/class 1 has only 1 example \(and 1 more class with one example\)/);
    // fewer than two classes left after dropping
    expect(() => stratifiedKFold(Int32Array.from([0, 0, 1, 2]), 2, 0, { singletonClasses: 'drop' })).toThrow(
      'option labels: only 1 class with at least 2 examples after leaving out 2 classes with one example; classification needs at least two',
    );
  });
});

describe('stratifiedSubsample', () => {
  it('keeps round(fraction · n_c) per class, at least one, sorted and unique', () => {
    const s = stratifiedSubsample(PIMA, 0.1, 5);
    const perClass = [0, 1].map((c) => s.filter((i) => PIMA[i] === c).length);
    expect(perClass).toEqual([Math.round(0.1 * 512), Math.round(0.1 * 256)]);
    expect([...s]).toEqual([...new Set(s)].sort((a, b) => a - b));
    const tiny = stratifiedSubsample(THREE, 0.001, 5);
    expect([...tiny].map((i) => THREE[i]).sort()).toEqual([0, 1, 2]);
    expect(stratifiedSubsample(THREE, 1, 5)).toEqual(Int32Array.from({ length: 103 }, (_, i) => i));
    expect(stratifiedSubsample(PIMA, 0.1, 5)).toEqual(s);
    expect(stratifiedSubsample(PIMA, 0.1, 6)).not.toEqual(s);
  });

  it('rejects a fraction outside (0, 1]', () => {
    for (const f of [0, -0.5, 1.5, Number.NaN]) expect(() => stratifiedSubsample(PIMA, f, 1)).toThrow(/option fraction: fraction must be in \(0, 1\]/);
  });
});
