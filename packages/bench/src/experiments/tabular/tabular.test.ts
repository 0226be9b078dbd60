import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng, DataError, ConfigError } from '@chainz/core';
import { runExperiment } from '../../runner/run';
import { tabularExperiment } from '.';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-tabular-'));
const base = { models: ['logreg', 'majority'], progress: 'none' as const, workers: 1 };

/**
 * A CSV the project has never seen: 20 text classes (with spaces), the label
 * column in the middle, an integer-coded category, empty cells, NA.
 */
function writeUnseenCsv(dir: string): string {
  const rng = new Rng(11);
  const rows = ['sensor_a,zone,label,sensor_b,sensor_c'];
  for (let i = 0; i < 400; i++) {
    const c = i % 20;
    const a = (c + rng.normal() * 0.3).toFixed(3);
    const b = i % 37 === 0 ? '' : (Math.sin(c) * 3 + rng.normal() * 0.3).toFixed(3);
    const cc = i % 53 === 0 ? 'NA' : rng.normal().toFixed(3);
    rows.push(`${a},${(c % 4) + 1},class ${String.fromCharCode(65 + c)} site,${b},${cc}`);
  }
  const file = path.join(dir, 'unseen.csv');
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

describe('chainz bench tabular', () => {
  it('--data: a CSV never seen before (text labels, 20 classes, label column by name, integer-coded category, missing cells) runs with no edits', async () => {
    const d = tmp();
    writeUnseenCsv(d);
    const dir = path.join(d, 'run');
    const run = await runExperiment(tabularExperiment, { ...base, data: 'unseen.csv', target: 'label', folds: 4, cwd: d, out: dir });
    expect(run.records).toHaveLength(8);
    expect(run.report.terminal).toContain(`Data: ${path.join(d, 'unseen.csv')} (--data): 400 rows, 4 features, 20 classes.`);
    const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc.data.classNames).toHaveLength(20);
    expect(doc.data.classNames[0]).toBe('class A site');
    expect(doc.data.features).toEqual(['sensor_a', 'zone', 'sensor_b', 'sensor_c']);
    const logreg = run.records.filter((r) => r.model === 'logreg');
    expect(logreg.reduce((s, r) => s + r.accuracy, 0) / logreg.length).toBeGreaterThan(0.2); // 20 classes: chance 0.05
    // by 1-based index, too
    const byIndex = await runExperiment(tabularExperiment, { ...base, models: ['majority'], data: 'unseen.csv', target: '3', folds: 4, cwd: d, out: path.join(d, 'run2') });
    expect(byIndex.records).toHaveLength(4);
  });

  it('a text feature column is a DataError naming the file and the column; --categorical one-hot encodes it', async () => {
    const d = tmp();
    const rows = ['x,colour,y'];
    for (let i = 0; i < 60; i++) rows.push(`${i % 7},${['red', 'green', 'blue'][i % 3]},${i % 2 ? 'yes' : 'no'}`);
    writeFileSync(path.join(d, 'cat.csv'), rows.join('\n') + '\n');
    const e = await runExperiment(tabularExperiment, { ...base, data: 'cat.csv', folds: 3, cwd: d, out: path.join(d, 'o') }).catch((x: unknown) => x as DataError);
    expect(e).toBeInstanceOf(DataError);
    expect((e as DataError).message).toMatch(/cat\.csv.*colour/);
    expect(existsSync(path.join(d, 'o'))).toBe(false);
    const ok = await runExperiment(tabularExperiment, { ...base, data: 'cat.csv', categorical: 'one-hot', folds: 3, cwd: d, out: path.join(d, 'o2') });
    expect(ok.records).toHaveLength(6);
  });

  it('a class smaller than --folds is spread over its own test folds, and the table says so', async () => {
    const d = tmp();
    const rows = ['a,b,y'];
    for (let i = 0; i < 40; i++) rows.push(`${i},${i % 5},big`);
    for (let i = 0; i < 3; i++) rows.push(`${100 + i},1,tiny`);
    writeFileSync(path.join(d, 'small.csv'), rows.join('\n') + '\n');
    const dir = path.join(d, 'run');
    await runExperiment(tabularExperiment, { ...base, models: ['majority'], data: 'small.csv', folds: 5, cwd: d, out: dir });
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toMatch(/Folds: class 'tiny' has 3 examples, fewer than 5 folds: each is tested in a different fold/);
  });

  it('needs exactly one of --dataset and --data; --target and --categorical need --data; a non-tabular data set is refused', async () => {
    const out = path.join(tmp(), 'o');
    await expect(runExperiment(tabularExperiment, { ...base, out })).rejects.toThrow(/option --dataset: give --dataset NAME/);
    await expect(runExperiment(tabularExperiment, { ...base, out, dataset: 'pima', data: 'x.csv' })).rejects.toThrow(ConfigError);
    await expect(runExperiment(tabularExperiment, { ...base, out, dataset: 'pima', target: 'y' })).rejects.toThrow(/option --target: --target applies to a --data file only/);
    await expect(runExperiment(tabularExperiment, { ...base, out, dataset: 'sst5' })).rejects.toThrow(/option --dataset: 'sst5' is not a tabular data set; choose a tabular data set: .*pima.*sonar/);
    expect(existsSync(out)).toBe(false);
  });

  it.skipIf(!process.env.CHAINZ_DATA_DIR)('--dataset sonar --folds 5 reads the UCI adapter', async () => {
    const run = await runExperiment(tabularExperiment, { ...base, dataset: 'sonar', folds: 5, out: path.join(tmp(), 'run') });
    expect(run.records).toHaveLength(10);
    expect(run.report.terminal).toMatch(/^Data: sonar: 208 rows, 60 features, 2 classes/);
    expect(run.dir).toMatch(/run$/);
  });
});
