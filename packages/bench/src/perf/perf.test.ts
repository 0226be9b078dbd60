import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import '@chainz/poly-layer';
import { PERF_RATIOS, PERF_TARGETS, renderPerfTables, runPerfBench } from './perf';

describe('chainz bench perf (tiny shape, cpu)', () => {
  it('times every variant, forms the ratios, reports memory and targets, leaks nothing', async () => {
    const before = tf.memory().numTensors;
    // a tiny network under a default shape's name, so that the shape's targets apply
    const name = 'pima-8-32-32-2-b64';
    const report = await runPerfBench({ steps: 2, warmup: 1, repeats: 2, chunkMs: 0, shapes: [{ name, dims: [4, 6, 6, 3], batch: 5 }], backend: tf.getBackend() });
    expect(tf.memory().numTensors).toBe(before);
    expect(report.fusedKernels).toBe(true);
    const [s] = report.shapes;
    expect(s.variants.map((v) => v.name)).toEqual(['matmul', 'tfjs-matmul', 'relu', 'cr', 'cr+dreg', 'cr-composite', 'cr+dreg-composite', 'relu-matmul', 'softplus', 'softplus+igpen', 'softplus+projection', 'cr+igpen']);
    for (const v of s.variants) {
      expect(v.samples).toBe(4);
      expect(v.stepsPerSample).toBe(1);
      expect(v.medianMs).toBeGreaterThan(0);
      expect(v.p25Ms).toBeLessThanOrEqual(v.p75Ms);
      expect(v.otherClockMedianMs).toBeGreaterThan(0);
      expect(s.memory[v.name].stepBytes).toBeGreaterThan(0);
      expect(v.stepVsMatmul).toBeCloseTo(v.medianMs / s.variants[0].medianMs, 10);
    }
    expect(Object.keys(s.ratios).sort()).toEqual(Object.keys(PERF_RATIOS).sort());
    expect(s.clock).toBe('cpu'); // auto on the cpu backend
    expect(Object.keys(s.otherClockRatios).sort()).toEqual(Object.keys(PERF_RATIOS).sort());
    const med = Object.fromEntries(s.variants.map((v) => [v.name, v.medianMs]));
    expect(s.ratios.polyVsRelu).toBeCloseTo(med.cr / med.relu, 10);
    expect(s.ratios.igpenVsDreg).toBeCloseTo(med['softplus+igpen'] / med['cr+dreg'], 10);
    expect(s.ratios.stepVsMatmul).toBeCloseTo(med['cr+dreg'] / med.matmul, 10);
    for (const [lo, hi] of Object.values(s.ratioRanges)) expect(lo).toBeLessThanOrEqual(hi);
    expect(Object.keys(s.targets).sort()).toEqual(Object.keys(PERF_TARGETS[name]).sort());
    const text = renderPerfTables(report);
    expect(text).toContain(`## ${name}: widths 4→6→6→3, batch 5`);
    expect(text).toContain(`CPU: ${os.cpus()[0].model}`);
    expect(text).toMatch(/\| polyVsRelu +\| [0-9.]+ +\| [0-9.]+–[0-9.]+ +\| [0-9.]+ +\| <= 1.2: (met|missed)/);
    expect(text).toMatch(/\| dregOverhead +\| [0-9.]+ +\|/);
    expect(JSON.parse(JSON.stringify(report)).shapes[0].shape.name).toBe(name);
  });

  it('a sample averages k consecutive steps so that it lasts about chunkMs (k ≤ 100)', async () => {
    const report = await runPerfBench({ steps: 1, warmup: 3, repeats: 1, chunkMs: 10_000, clock: 'wall', variants: ['relu', 'cr'], shapes: [{ name: 'tiny', dims: [3, 4, 2], batch: 4 }], backend: tf.getBackend() });
    for (const v of report.shapes[0].variants) expect(v.stepsPerSample).toBe(100);
    expect(report.protocol).toMatchObject({ chunkMs: 10_000, clock: 'wall' });
    expect(report.shapes[0].clock).toBe('wall');
  });

  it('rejects bad counts and unknown variants', async () => {
    await expect(runPerfBench({ steps: 0, backend: 'cpu' })).rejects.toThrow(/option --steps/);
    await expect(runPerfBench({ steps: 1, variants: ['nope'], shapes: [{ name: 't', dims: [2, 2, 2], batch: 2 }], backend: 'cpu' })).rejects.toThrow(/unknown variant/);
  });
});
