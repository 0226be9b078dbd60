import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, ShapeError } from '@chainz/core';
import { fitTabularPreprocessor, takeRows } from './preprocess';
import { loadPima } from './pima/adapter';
import { stratifiedKFold } from './splits';

describe('fitTabularPreprocessor', () => {
  it('imputes with the training median and standardises with the population std (hand case)', () => {
    // column 0: [1, NaN, 3, 10] → median of observed 3; imputed [1, 3, 3, 10]: mean 4.25,
    //   population variance (3.25² + 1.25² + 1.25² + 5.75²) / 4 = 11.6875.
    // column 1: constant 7 with one missing → std 1 (documented), maps to 0.
    const x = Float32Array.from([1, 7, NaN, 7, 3, NaN, 10, 7]);
    const p = fitTabularPreprocessor(x, 4, 2);
    expect([...p.medians]).toEqual([3, 7]);
    expect([...p.fill]).toEqual([3, 7]);
    expect(p.means[0]).toBeCloseTo(4.25, 12);
    expect(p.stds[0]).toBeCloseTo(Math.sqrt(11.6875), 12);
    expect([...p.stds.subarray(1)]).toEqual([1]);
    const t = p.transform(x, 4);
    const s = Math.sqrt(11.6875);
    const expected = [(1 - 4.25) / s, 0, (3 - 4.25) / s, 0, (3 - 4.25) / s, 0, (10 - 4.25) / s, 0];
    t.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect(x[2]).toBeNaN(); // input untouched
  });

  it('supports mean imputation and imputation without standardisation', () => {
    const x = Float32Array.from([1, NaN, 3, 10]);
    const p = fitTabularPreprocessor(x, 4, 1, { impute: 'mean', standardize: false });
    expect(p.fill[0]).toBeCloseTo(14 / 3, 12);
    expect([...p.means]).toEqual([0]);
    expect([...p.stds]).toEqual([1]);
    expect([...p.transform(Float32Array.from([NaN, 2]), 2)]).toEqual([Math.fround(14 / 3), 2]);
  });

  it('fits on training rows only: test rows are never read', async () => {
    const ds = await loadPima();
    const x = ds.splits.all.features!.dataSync() as Float32Array;
    const y = ds.splits.all.labels;
    ds.dispose();
    const [fold] = stratifiedKFold(y, 10, 3);
    const fitted = fitTabularPreprocessor(x, 768, 8, { rows: fold.train });
    // poison every test row (values and missingness): same fit
    const poisoned = x.slice();
    for (const i of fold.test) for (let j = 0; j < 8; j++) poisoned[i * 8 + j] = j % 2 ? 1e6 : NaN;
    const again = fitTabularPreprocessor(poisoned, 768, 8, { rows: fold.train });
    for (const key of ['medians', 'fill', 'means', 'stds'] as const) expect(again[key]).toEqual(fitted[key]);
    // same as fitting on the extracted training matrix
    const direct = fitTabularPreprocessor(takeRows(x, 8, fold.train), fold.train.length, 8);
    expect(direct.medians).toEqual(fitted.medians);
    expect(direct.stds).toEqual(fitted.stds);
    // and differs from fitting on all rows (so the test can fail)
    expect(fitTabularPreprocessor(x, 768, 8).means).not.toEqual(fitted.means);
    // transformed training columns: mean 0, population std 1, no NaN
    const t = fitted.transform(takeRows(x, 8, fold.train), fold.train.length);
    const m = fold.train.length;
    for (let j = 0; j < 8; j++) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < m; i++) {
        expect(Number.isNaN(t[i * 8 + j])).toBe(false);
        s += t[i * 8 + j];
        s2 += t[i * 8 + j] ** 2;
      }
      expect(s / m).toBeCloseTo(0, 5);
      expect(Math.sqrt(s2 / m - (s / m) ** 2)).toBeCloseTo(1, 5);
    }
    // glucose (column 2) median of the training fold equals a float64 reference
    const g = [...fold.train].map((i) => x[i * 8 + 1]).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    const ref = g.length % 2 ? g[(g.length - 1) / 2] : (g[g.length / 2 - 1] + g[g.length / 2]) / 2;
    expect(fitted.medians[1]).toBe(ref);
  });

  it('rejects a column with no observed value, shape mismatches and bad options', () => {
    expect(() => fitTabularPreprocessor(Float32Array.from([1, NaN, 2, NaN]), 2, 2)).toThrow(DataError);
    expect(() => fitTabularPreprocessor(Float32Array.from([1, NaN, 2, NaN]), 2, 2)).toThrow('column 2: no observed (non-missing) value in the training rows');
    expect(() => fitTabularPreprocessor(Float32Array.from([1, NaN, 2, NaN]), 2, 2, { columnNames: ['a', 'glucose'], file: '/d/p.csv' })).toThrow(
      '/d/p.csv, column 2 (glucose): no observed (non-missing) value in the training rows',
    );
    expect(() => fitTabularPreprocessor(new Float32Array(5), 2, 2)).toThrow(ShapeError);
    expect(() => fitTabularPreprocessor(new Float32Array(4), 2, 2, { impute: 'mode' as never })).toThrow(ConfigError);
    expect(() => fitTabularPreprocessor(new Float32Array(4), 2, 2, { rows: Int32Array.from([0, 2]) })).toThrow(/row index 2 is outside \[0, 2\)/);
    expect(() => fitTabularPreprocessor(new Float32Array(4), 2, 2, { rows: new Int32Array(0) })).toThrow(/rows is empty/);
    const p = fitTabularPreprocessor(new Float32Array(4), 2, 2);
    expect(() => p.transform(new Float32Array(5), 2)).toThrow('tensor x: x has 5 values, expected n·d = 2·2 = 4');
  });
});
