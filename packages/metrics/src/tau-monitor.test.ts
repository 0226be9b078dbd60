import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, NumericError, Rng } from '@chainz/core';
import { TauMonitor, type TauWindowReport } from './tau-monitor';
import { gradientTailRatio } from './tail-ratio';

/** n log-normal magnitudes exp(σ·N(0,1)): a larger σ gives a heavier upper tail (larger τ). */
function lognormal(rng: Rng, n: number, sigma: number): Float64Array {
  return Float64Array.from({ length: n }, () => Math.exp(sigma * rng.normal()));
}

describe('TauMonitor on gradient norms', () => {
  it('collects a reference, then flags no in-distribution window and every window of a heavier tail', () => {
    const rng = new Rng(3);
    const mon = new TauMonitor({ windowSize: 500, referenceSize: 2000 });
    expect(mon.phase).toBe('reference');
    const closed: TauWindowReport[] = [];
    // Batches of 300 do not line up with windows of 500: windows span batches.
    for (let b = 0; b < 40; b++) closed.push(...mon.update(lognormal(rng, 300, 0.5)));
    expect(mon.phase).toBe('monitoring');
    const ref = mon.reference!;
    expect(ref.samples).toBe(2000);
    expect(ref.limit).toBe(Math.max(0.1, 3 * ref.relativeSd));
    expect(closed).toHaveLength((40 * 300 - 2000) / 500);
    expect(closed.map((w) => w.index)).toEqual(closed.map((_, i) => i));
    expect(closed.every((w) => w.samples === 500)).toBe(true);
    expect(closed.filter((w) => w.shift)).toEqual([]);
    expect(mon.shiftDetected).toBe(false);
    const shifted: TauWindowReport[] = [];
    for (let b = 0; b < 10; b++) shifted.push(...mon.update(lognormal(rng, 300, 1.0)));
    expect(shifted).toHaveLength(6);
    expect(shifted.every((w) => w.shift && w.relativeChange > w.limit)).toBe(true);
    expect(mon.shiftDetected).toBe(true);
    expect(mon.history).toHaveLength(closed.length + shifted.length);
  });

  it('keeps τ within the sketch accuracy of the exact sample τ', () => {
    const rng = new Rng(4);
    const mon = new TauMonitor({ windowSize: 1000, referenceSize: 1000 });
    const ref = lognormal(rng, 1000, 0.8);
    mon.update(ref);
    const rest = lognormal(rng, 5000, 0.8);
    const windows = mon.update(rest);
    expect(Math.abs(mon.reference!.tau / gradientTailRatio(ref) - 1)).toBeLessThan(0.01);
    expect(Math.abs(mon.running()!.tau / gradientTailRatio(rest) - 1)).toBeLessThan(0.01);
    expect(mon.running()!.samples).toBe(5000);
    expect(Math.abs(windows[2].tau / gradientTailRatio(rest.subarray(2000, 3000)) - 1)).toBeLessThan(0.01);
    expect(mon.current()).toBeUndefined(); // 5000 is a whole number of windows
    mon.update(rest.subarray(0, 10));
    expect(mon.current()!.samples).toBe(10);
  });

  it('reports the mean-norm chart and the confidence baseline beside τ', () => {
    const rng = new Rng(6);
    const mon = new TauMonitor({ windowSize: 400, referenceSize: 1600 });
    const conf = (n: number, c: number) => new Float64Array(n).fill(c);
    mon.update(lognormal(rng, 1600, 0.5), conf(1600, 0.9));
    expect(mon.reference!.meanConfidence).toBeCloseTo(0.9, 12);
    // Every norm ×3: the level moves, τ (a ratio) does not.
    const scaled = lognormal(rng, 800, 0.5).map((g) => 3 * g);
    const w = mon.update(scaled, conf(800, 0.6));
    expect(w).toHaveLength(2);
    for (const r of w) {
      expect(r.shift).toBe(false);
      expect(r.meanShift).toBe(true);
      expect(r.meanRelativeChange).toBeGreaterThan(1.5);
      expect(r.meanConfidence).toBeCloseTo(0.6, 12);
    }
    expect(mon.shiftDetected).toBe(false);
  });

  it('is deterministic for a seed and keeps at most maxHistory windows', () => {
    const run = () => {
      const rng = new Rng(9);
      const mon = new TauMonitor({ windowSize: 50, referenceSize: 3000, reservoirSize: 500, maxHistory: 5, seed: 2 });
      mon.update(lognormal(rng, 3000 + 50 * 12, 0.7));
      return mon;
    };
    const a = run();
    expect(a.reference).toEqual(run().reference);
    expect(a.history).toHaveLength(5);
    expect(a.history.map((w) => w.index)).toEqual([7, 8, 9, 10, 11]);
    a.reset();
    expect(a.phase).toBe('reference');
    expect(a.history).toHaveLength(0);
  });

  it('rejects bad options and values, naming them', () => {
    expect(() => new TauMonitor({ q: 0 })).toThrow(/option q: q must be in \(0, 1\], got 0/);
    expect(() => new TauMonitor({ windowSize: 2.5 })).toThrow(/option windowSize: windowSize must be a positive integer, got 2.5/);
    expect(() => new TauMonitor({ bootstrap: 1 })).toThrow(/option bootstrap/);
    expect(() => new TauMonitor({ relativeAccuracy: 1 })).toThrow(ConfigError);
    expect(() => new TauMonitor({ target: 'x' as 'logit-margin' })).toThrow(/option target/);
    const mon = new TauMonitor({ windowSize: 2, referenceSize: 4 });
    expect(() => mon.update([1, Number.NaN])).toThrow(/tensor norms: norm 1 is NaN/);
    expect(() => mon.update([1, -1])).toThrow(/norm 1 is -1; gradient norms must be non-negative/);
    expect(() => mon.update([1, 2], [0.5])).toThrow(/option confidence: confidence has 1 values for 2 norms/);
    expect(() => mon.update([1], [1.5])).toThrow(/confidence 0 is 1.5/);
    expect(mon.phase).toBe('reference'); // rejected batches change nothing
    const zero = new TauMonitor({ windowSize: 2, referenceSize: 4 });
    expect(() => zero.update([0, 0, 0, 0])).toThrow(NumericError);
    zero.update([1, 2, 3, 4]); // the unusable reference was discarded: a new one starts
    expect(zero.reference!.samples).toBe(4);
  });
});

describe('TauMonitor.observe on a model (synthetic covariate shift)', () => {
  // Three well-separated classes in 4-d (centres 3·e_k, noise σ = 1) and a
  // fixed linear classifier z = 2·x·Cᵀ. The shift: 30 % of the inputs come
  // from the ambiguous region around (1, 1, 1, 1), between the classes.
  const C = [
    [3, 0, 0, 0],
    [0, 3, 0, 0],
    [0, 0, 3, 0],
  ];
  const W = tf.tensor2d(
    Array.from({ length: 12 }, (_, i) => 2 * C[i % 3][Math.floor(i / 3)]),
    [4, 3],
  );
  const model = (x: tf.Tensor2D) => tf.matMul(x, W) as tf.Tensor2D;
  function batch(rng: Rng, n: number, ambiguous: number): tf.Tensor2D {
    const v: number[] = [];
    for (let i = 0; i < n; i++) {
      const amb = rng.next() < ambiguous;
      const k = rng.int(3);
      for (let d = 0; d < 4; d++) v.push((amb ? 1 : C[k][d]) + rng.normal());
    }
    return tf.tensor2d(v, [n, 4]);
  }

  it('no flag in distribution, a flag on every shifted window, no tensor leaks', () => {
    const rng = new Rng(1);
    const mon = new TauMonitor({ windowSize: 512, referenceSize: 2048 });
    const before = tf.memory().numTensors;
    const inDist: TauWindowReport[] = [];
    for (let b = 0; b < 12; b++) {
      const x = batch(rng, 1000, 0);
      inDist.push(...mon.observe(model, x));
      x.dispose();
    }
    const shifted: TauWindowReport[] = [];
    for (let b = 0; b < 4; b++) {
      const x = batch(rng, 1000, 0.3);
      shifted.push(...mon.observe(model, x));
      x.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(inDist.length).toBeGreaterThanOrEqual(15);
    expect(inDist.filter((w) => w.shift)).toEqual([]);
    expect(shifted.length).toBeGreaterThanOrEqual(7);
    expect(shifted.every((w) => w.shift)).toBe(true);
    // The confidence baseline drops as well; here τ falls (large gradients become common, so the tail is lighter relative to the mean).
    const ref = mon.reference!;
    expect(shifted.every((w) => w.meanConfidence! < ref.meanConfidence! && w.relativeChange < 0)).toBe(true);
  });
});
