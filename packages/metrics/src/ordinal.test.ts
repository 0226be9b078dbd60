import { describe, expect, it } from 'vitest';
import { confusionMatrix, meanAbsoluteError, quadraticWeightedKappa } from './ordinal';

describe('ordinal metrics', () => {
  it('MAE on a hand-checked case', () => {
    expect(meanAbsoluteError([0, 2, 4, 1], [0, 1, 1, 1])).toBeCloseTo((0 + 1 + 3 + 0) / 4, 12);
    expect(meanAbsoluteError([], [])).toBeNaN();
    expect(() => meanAbsoluteError([1], [1, 2])).toThrow(/1 predictions for 2 labels/);
  });

  it('QWK = 1 for perfect agreement, 0 at chance, and a hand-computed value', () => {
    expect(quadraticWeightedKappa([0, 1, 2, 3, 4], [0, 1, 2, 3, 4], 5)).toBeCloseTo(1, 12);
    // O = [[1,1],[1,1]] equals its expectation E: κ = 0.
    expect(quadraticWeightedKappa([0, 1, 0, 1], [0, 0, 1, 1], 2)).toBeCloseTo(0, 12);
    // truth [0,1,2,2,3], pred [0,2,2,1,3], K = 4: Σ w·O = 2/9; marginals [1,1,2,1] both ways,
    // Σ_ij t_i p_j (i−j)² = 52, so Σ w·E = 52/(9·5); κ = 1 − (2/9)/(52/45) = 1 − 90/468.
    expect(quadraticWeightedKappa([0, 2, 2, 1, 3], [0, 1, 2, 2, 3], 4)).toBeCloseTo(1 - 90 / 468, 12);
    // Reversed ratings disagree maximally: κ = −1 for a symmetric two-point case.
    expect(quadraticWeightedKappa([4, 0], [0, 4], 5)).toBeCloseTo(-1, 12);
    // One class everywhere: 0/0 → NaN.
    expect(quadraticWeightedKappa([2, 2], [2, 2], 5)).toBeNaN();
  });

  it('QWK weighs distant errors more than adjacent ones', () => {
    const truth = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4];
    const near = [1, 1, 2, 3, 4, 0, 1, 2, 3, 3];
    const far = [4, 1, 2, 3, 4, 0, 1, 2, 3, 0];
    expect(quadraticWeightedKappa(near, truth, 5)).toBeGreaterThan(quadraticWeightedKappa(far, truth, 5));
  });

  it('QWK equals the pairwise form 1 − N·Σ_n (y_n − ŷ_n)² / Σ_a Σ_b (y_a − ŷ_b)² on seeded random ratings', () => {
    let state = 12345;
    const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16) / 65536;
    for (const k of [2, 5, 11]) {
      const truth = Array.from({ length: 200 }, () => Math.floor(next() * k));
      const pred = truth.map((t) => (next() < 0.6 ? t : Math.floor(next() * k)));
      let own = 0, all = 0;
      for (let a = 0; a < truth.length; a++) {
        own += (truth[a] - pred[a]) ** 2;
        for (let b = 0; b < truth.length; b++) all += (truth[a] - pred[b]) ** 2;
      }
      expect(quadraticWeightedKappa(pred, truth, k)).toBeCloseTo(1 - (truth.length * own) / all, 10);
      const o = confusionMatrix(pred, truth, k);
      expect(o.map((r) => r.reduce((x, y) => x + y, 0))).toEqual(Array.from({ length: k }, (_, c) => truth.filter((t) => t === c).length));
    }
  });

  it('confusion matrix and range checks', () => {
    expect(confusionMatrix([0, 1, 1], [0, 0, 1], 2)).toEqual([[1, 1], [0, 1]]);
    expect(() => quadraticWeightedKappa([0, 5], [0, 1], 5)).toThrow(/prediction 1 is 5; expected 0 … 4/);
    expect(() => quadraticWeightedKappa([0, 1], [0, -1], 5)).toThrow(/label 1 is -1/);
  });
});
