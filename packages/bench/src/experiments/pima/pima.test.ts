import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, DataError } from '@chainz/core';
import { PIMA_CSV } from '@chainz/data';
import { pimaExperiment } from '.';
import { runExperiment } from '../../runner/run';

/** The experiment run from code, with the terminal table as `table`. */
const runPimaBench = async (o: Parameters<typeof runExperiment<any, any, any, any>>[1]) => {
  const r = await runExperiment(pimaExperiment, o as never);
  return { ...r, table: r.report.terminal };
};

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
    expect(out.table).toContain('Data: the embedded reference copy of Pima Indians Diabetes (768 rows, sha256 d579e224…).');
    expect(doc.environment.sessions).toHaveLength(1);
    expect(doc.environment.wallSeconds).toBe(doc.environment.sessions[0].wallSeconds);
    expect(doc.environment.sessions[0].units).toBe(9);

    // Simulate a crash after 4 units: drop the rest and resume.
    const partial = { ...doc, status: 'running', units: doc.units.slice(0, 4) };
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify(partial));
    const resumed = await runPimaBench({ folds: 3, seed: 1, models: ['logreg', 'svm-rbf', 'majority'], resume: dir, progress: 'none', backend: tf.getBackend(), workers: 1 });
    expect(resumed.computedUnits).toBe(5);
    const doc2 = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc2.units.map((u: { accuracy: number }) => u.accuracy)).toEqual(doc.units.map((u: { accuracy: number }) => u.accuracy));
    // Wall time adds up over the sessions instead of keeping only the last one's.
    const first = doc.environment.sessions[0];
    expect(doc2.environment.sessions).toHaveLength(2);
    expect(doc2.environment.sessions[0]).toEqual(first);
    expect(doc2.environment.sessions[1].units).toBe(5);
    expect(doc2.environment.wallSeconds).toBeCloseTo(first.wallSeconds + doc2.environment.sessions[1].wallSeconds, 9);
    expect(resumed.wallSeconds).toBe(doc2.environment.wallSeconds);
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain(`wall time ${doc2.environment.wallSeconds.toFixed(1)} s over 2 sessions`);
    // A --resume with nothing left to do keeps the recorded time (it used to write 0.0 s).
    const noop = await runPimaBench({ folds: 3, seed: 1, models: ['logreg', 'svm-rbf', 'majority'], resume: dir, progress: 'none', backend: tf.getBackend(), workers: 1 });
    expect(noop.computedUnits).toBe(0);
    expect(noop.wallSeconds).toBe(doc2.environment.wallSeconds);
    expect(JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')).environment.sessions).toEqual(doc2.environment.sessions);

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

  const reject = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ConfigError | DataError);
  const lines = PIMA_CSV.trimEnd().split('\n');

  it('fold errors name --folds and --data, not the library options k and labels', async () => {
    const base = { models: ['majority'], progress: 'none' as const, backend: 'cpu', workers: 1 };
    const many = await reject(runPimaBench({ ...base, folds: 1000, out: path.join(tmp(), 'o') }));
    expect(many).toBeInstanceOf(ConfigError);
    expect(many!.message).toBe('option --folds: 1000 folds but only 768 examples to split; every test fold needs at least one');
    expect(many!.hint).toBe('choose --folds <= 768');
    // 3 rows: one class has a single example; no hint to use k <= 1 (k must be ≥ 2).
    // (Rows 1, 3, 4: the first three rows all have insulin 0 = missing, a data error of its own.)
    const d = tmp();
    writeFileSync(path.join(d, 'three.csv'), [lines[0], lines[1], lines[3], lines[4]].join('\n') + '\n');
    const few = await reject(runPimaBench({ ...base, data: 'three.csv', cwd: d, out: path.join(d, 'o') }));
    expect(few).toBeInstanceOf(DataError);
    expect(few!.message).toBe('option --data: too few examples per class for k-fold cross-validation: class \'neg\' has only 1 example; at least 2 of each class are needed');
    expect(few!.hint).not.toMatch(/<= 1/);
  });

  it('a --data file with another layout: says how many columns it has, and points other CSV files to bench tabular', async () => {
    const d = tmp();
    writeFileSync(path.join(d, 'good.csv'), ['a,b,c,d,y', ...Array.from({ length: 20 }, (_, i) => `${i},${i},${i},${i},${i % 2}`)].join('\n') + '\n');
    const e = await reject(runPimaBench({ data: 'good.csv', cwd: d, models: ['majority'], out: path.join(d, 'o'), progress: 'none', backend: 'cpu', workers: 1 }));
    expect(e).toBeInstanceOf(DataError);
    expect(e!.message).toBe(`${path.join(d, 'good.csv')}, row 1: the file has 5 columns where the Pima layout needs 9`);
    expect(e!.message).not.toMatch(/column 6/);
    expect(e!.hint).toMatch(/other CSV files run with `chainz bench tabular --data FILE`/);
  });

  it('a bad cell in --data gets a hint about the file, not the library option `missing`', async () => {
    const d = tmp();
    writeFileSync(path.join(d, 'gap.csv'), [lines[0], lines[1].replace(/^6,148/, '6,'), ...lines.slice(2, 10)].join('\n'));
    const e = await reject(runPimaBench({ data: 'gap.csv', cwd: d, models: ['majority'], out: path.join(d, 'o'), progress: 'none', backend: 'cpu', workers: 1 }));
    expect(e!.message).toMatch(/gap\.csv, row 2, column 2 \(glucose\): empty cell$/);
    expect(e!.hint).toMatch(/^every Pima cell must be a number: write 0 for a missing glucose/);
    expect(e!.hint).not.toMatch(/missing: |in `?missing`?/);
  });

  it('a --data file that differs from the reference copy is named, counted and flagged as not comparable', async () => {
    const d = tmp();
    const file = path.join(d, 'first59.csv');
    writeFileSync(file, lines.slice(0, 60).join('\n') + '\n');
    const dir = path.join(d, 'run');
    const out = await runPimaBench({ data: 'first59.csv', cwd: d, folds: 2, models: ['majority'], out: dir, progress: 'none', backend: 'cpu', workers: 1 });
    const flag = `Data: ${file} (--data, 59 rows), which DIFFERS from the reference Pima copy (768 rows, sha256 d579e224…).`;
    const md = readFileSync(path.join(dir, 'summary.md'), 'utf8');
    // (the terminal wraps long lines at 120 columns, continuation lines indented)
    for (const text of [out.table.replace(/\n(?![|\n]) */g, ' '), md]) {
      expect(text).toContain(flag);
      expect(text).toContain("NOTE: the paper's figure and the literature anchors refer to the reference data; the numbers of this file are not comparable with them.");
    }
    expect(md).toContain(`This run used ${file} (59 rows), not the reference Pima data (768 rows)`);
    expect(md).not.toContain('our numbers use the protocol above. Literature anchors');
    // an exact copy of the reference file is said to be one
    writeFileSync(path.join(d, 'copy.csv'), PIMA_CSV);
    const same = await runPimaBench({ data: 'copy.csv', cwd: d, folds: 2, models: ['majority'], out: path.join(d, 'run2'), progress: 'none', backend: 'cpu', workers: 1 });
    expect(same.table).toContain(`Data: ${path.join(d, 'copy.csv')} (768 rows), identical to the reference Pima copy (sha256 d579e224…).`);
    expect(same.table).not.toContain('DIFFERS');
  });
});
