import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runPimaBench } from './pima';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-pima-'));

describe('chainz bench pima (small protocol)', () => {
  it('runs the same folds for every model, writes results.json + summary.md, and resumes', async () => {
    const dir = path.join(tmp(), 'run');
    const before = tf.memory().numTensors;
    const out = await runPimaBench({ folds: 3, seed: 1, models: ['logreg', 'svm-rbf', 'majority'], out: dir, progress: 'none', backend: tf.getBackend(), workers: 1 });
    expect(tf.memory().numTensors).toBe(before);
    const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc.status).toBe('complete');
    expect(doc.protocol).toMatchObject({ folds: 3, repeats: 1, seed: 1 });
    expect(doc.units).toHaveLength(9);
    const byModel = Object.fromEntries(doc.models.map((m: { name: string }) => [m.name, m]));
    // majority = 500/768 on every stratified fold (±1 row per fold)
    expect(byModel.majority.accuracy.mean).toBeCloseTo(500 / 768, 2);
    expect(byModel.logreg.accuracy.mean).toBeGreaterThan(0.72);
    expect(byModel['svm-rbf'].accuracy.mean).toBeGreaterThan(0.70);
    expect(byModel.logreg.tau.mean).toBeGreaterThan(1);
    expect(byModel['svm-rbf'].tau).toBeNull();
    expect(doc.comparisons.filter((c: { test: string }) => c.test === 'corrected-resampled-t')).toHaveLength(2);
    expect(doc.paper.accuracyMean).toBe(85.71);
    expect(doc.environment).toMatchObject({ backend: tf.getBackend(), tfjs: '4.22.0' });
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('paper: ChainzRule (protocol not stated)');
    expect(out.table).toMatch(/\| logreg +\|/);

    // Simulate a crash after 4 units: drop the rest and resume.
    const partial = { ...doc, status: 'running', units: doc.units.slice(0, 4) };
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify(partial));
    const resumed = await runPimaBench({ folds: 3, seed: 1, models: ['logreg', 'svm-rbf', 'majority'], resume: dir, progress: 'none', backend: tf.getBackend(), workers: 1 });
    expect(resumed.computedUnits).toBe(5);
    const doc2 = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc2.units.map((u: { accuracy: number }) => u.accuracy)).toEqual(doc.units.map((u: { accuracy: number }) => u.accuracy));

    // Resuming with other settings is refused.
    await expect(runPimaBench({ folds: 4, seed: 1, models: ['logreg', 'svm-rbf', 'majority'], resume: dir, progress: 'none', backend: 'cpu', workers: 1 })).rejects.toThrow(/different settings/);
  }, 120_000);

  it('rejects unknown models and bad protocol values with the option named', async () => {
    await expect(runPimaBench({ models: ['nope'], out: tmp(), progress: 'none', backend: 'cpu', workers: 1 })).rejects.toThrow(/option --models: unknown model\(s\) nope/);
    await expect(runPimaBench({ folds: 1, models: ['majority'], out: path.join(tmp(), 'x'), progress: 'none', backend: 'cpu', workers: 1 })).rejects.toThrow(/--folds/);
  });

  it('a bad --data file is a DataError naming the file, and nothing is written', async () => {
    const d = tmp();
    const bad = path.join(d, 'bad.csv');
    writeFileSync(bad, '1,2,3\n4,5,6\n');
    const out = path.join(d, 'out');
    await expect(runPimaBench({ data: bad, models: ['majority'], out, progress: 'none', backend: 'cpu', workers: 1 })).rejects.toThrow(/bad\.csv/);
    expect(() => readFileSync(path.join(out, 'results.json'))).toThrow();
  });
});
