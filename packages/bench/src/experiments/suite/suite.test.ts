import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineAdapter, registerAdapter, registerBuiltinAdapters } from '@chainz/data';
import { Rng } from '@chainz/core';
import { runExperiment } from '../../runner/run';
import { suiteExperiment } from '.';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-suite-'));

/** A synthetic tabular data set: two Gaussian classes in 3-D (600 rows), seeded. */
const twoBlobs = defineAdapter({
  name: 'suite-test-blobs',
  describe: () => ({ name: 'suite-test-blobs', title: 'two Gaussian classes (test)', task: 'classification', source: 'generated (seed 3)', builtIn: false, modality: 'tabular' }) as never,
  async load() {
    const rng = new Rng(3);
    const n = 600;
    const x = new Float32Array(n * 3);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      for (let j = 0; j < 3; j++) x[i * 3 + j] = rng.normal() + (y[i] === 1 && j === 0 ? 2 : 0);
    }
    const features = tf.tensor2d(x, [n, 3]);
    return { name: 'suite-test-blobs', task: 'classification', splits: { all: { features, labels: y } }, classNames: ['a', 'b'], featureNames: ['u', 'v', 'w'], provenance: { files: ['generated'], sha256: ['1'.repeat(64)], source: 'synthetic', licence: 'public domain', rows: { all: n } }, dispose: () => features.dispose() };
  },
});

describe('chainz bench suite', () => {
  it('one table over data sets, ranks, Friedman + Nemenyi, a CD diagram; --max-rows samples and says so; resumes', async () => {
    registerBuiltinAdapters();
    registerAdapter(twoBlobs);
    const dir = path.join(tmp(), 'run');
    const opts = { datasets: ['pima', 'suite-test-blobs'], folds: 2, maxRows: 300, models: ['logreg', 'svm-rbf', 'majority'], progress: 'none' as const, workers: 1 };
    const before = tf.memory().numTensors;
    const run = await runExperiment(suiteExperiment, { ...opts, out: dir });
    expect(tf.memory().numTensors).toBe(before);
    expect(run.records).toHaveLength(2 * 2 * 3);
    expect(new Set(run.records.map((r) => r.dataset))).toEqual(new Set(['pima', 'suite-test-blobs']));
    const t = run.report.terminal;
    expect(t).toMatch(/\| pima\* +\| +300\/768 \| +2 \|/);
    expect(t).toMatch(/\| suite-test-blobs\* +\| +300\/600 \|/);
    expect(t).toContain('* stratified sample of the rows (rows used/total).');
    expect(t).toMatch(/Average ranks over 2 data sets \(1 = best\): logreg \d\.\d\d, svm-rbf \d\.\d\d, majority 3\.00\./);
    expect(t).toMatch(/Nemenyi CD \(α = 0\.05\) = \d\.\d\d/);
    for (const line of t.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
    const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc.comparison.methods).toEqual(['logreg', 'svm-rbf', 'majority']);
    expect(doc.comparison.averageRanks[2]).toBe(3); // majority is last on both
    expect(doc.protocol).toMatchObject({ folds: 2, maxRows: 300, datasets: ['pima', 'suite-test-blobs'] });
    const svg = readFileSync(path.join(dir, 'cd-diagram.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const m of ['logreg', 'svm-rbf', 'majority']) expect(svg).toContain(m);
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('Ranks per data set (1 = best):');
    // resume after a crash: the same numbers
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ ...doc, status: 'running', units: doc.units.slice(0, 5) }));
    const again = await runExperiment(suiteExperiment, { ...opts, resume: dir });
    expect(again.computedUnits).toBe(7);
    const doc2 = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc2.units.map((u: { accuracy: number }) => u.accuracy)).toEqual(doc.units.map((u: { accuracy: number }) => u.accuracy));
  }, 120_000);

  it('refuses a non-tabular, unknown or single data set, naming --datasets; nothing is written', async () => {
    const out = path.join(tmp(), 'o');
    const base = { progress: 'none' as const, workers: 1, out, models: ['majority'] };
    await expect(runExperiment(suiteExperiment, { ...base, datasets: ['pima', 'cifar10'] })).rejects.toThrow(/option --datasets: 'cifar10' is not a tabular data set; choose a tabular data set: .*pima/);
    await expect(runExperiment(suiteExperiment, { ...base, datasets: ['pima', 'nope'] })).rejects.toThrow(/option --datasets: unknown data set 'nope'/);
    await expect(runExperiment(suiteExperiment, { ...base, datasets: ['pima'] })).rejects.toThrow(/option --datasets: needs at least two tabular data sets/);
    expect(existsSync(out)).toBe(false);
  });
});
