import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
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
    const e = (await runExperiment(tabularExperiment, { ...base, data: 'cat.csv', folds: 3, cwd: d, out: path.join(d, 'o') }).catch((x: unknown) => x)) as DataError;
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
    const neither = (await runExperiment(tabularExperiment, { ...base, out }).catch((x: unknown) => x)) as ConfigError;
    expect(neither).toBeInstanceOf(ConfigError);
    expect(neither.message).toBe('option --dataset: give --dataset NAME (a registered tabular data set; `chainz datasets` lists them) or --data FILE.csv');
    await expect(runExperiment(tabularExperiment, { ...base, out, dataset: 'pima', data: 'x.csv' })).rejects.toThrow(/option --data: give --dataset NAME .* or --data FILE\.csv, not both$/);
    await expect(runExperiment(tabularExperiment, { ...base, out, dataset: 'pima', target: 'y' })).rejects.toThrow(/option --target: --target applies to a --data file only/);
    await expect(runExperiment(tabularExperiment, { ...base, out, dataset: 'sst5' })).rejects.toThrow(/option --dataset: 'sst5' is not a tabular data set; choose a tabular data set: .*pima.*sonar/);
    expect(existsSync(out)).toBe(false);
  });

  it('--dataset without CHAINZ_DATA_DIR says to set it, and names no --data (which --dataset refuses)', async () => {
    const saved = process.env.CHAINZ_DATA_DIR;
    delete process.env.CHAINZ_DATA_DIR;
    try {
      const e = (await runExperiment(tabularExperiment, { ...base, dataset: 'sonar', out: path.join(tmp(), 'o') }).catch((x: unknown) => x)) as DataError;
      expect(e).toBeInstanceOf(DataError);
      expect(e.message).toBe("no location for dataset 'sonar': set CHAINZ_DATA_DIR");
      expect(e.hint).toMatch(/set CHAINZ_DATA_DIR to the folder holding uci\/$/);
    } finally {
      if (saved !== undefined) process.env.CHAINZ_DATA_DIR = saved;
    }
  });

  it.skipIf(!process.env.CHAINZ_DATA_DIR)('--dataset sonar --folds 5 reads the UCI adapter', async () => {
    const run = await runExperiment(tabularExperiment, { ...base, dataset: 'sonar', folds: 5, out: path.join(tmp(), 'run') });
    expect(run.records).toHaveLength(10);
    expect(run.report.terminal).toMatch(/^Data: sonar: 208 rows, 60 features, 2 classes/);
    expect(run.dir).toMatch(/run$/);
  });
});

describe('chainz bench tabular --data: messages name what the user can do', () => {
  /** The error of a run on `content` (a file in a fresh folder). */
  async function failure(content: string | Buffer, name = 'd.csv', extra: Record<string, unknown> = {}): Promise<DataError> {
    const d = tmp();
    writeFileSync(path.join(d, name), content);
    const e = await runExperiment(tabularExperiment, { ...base, models: ['majority'], data: name, folds: 2, cwd: d, out: path.join(d, 'o'), ...extra }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DataError);
    expect(existsSync(path.join(d, 'o'))).toBe(false);
    return e as DataError;
  }
  const table = (label: (i: number) => string, n = 20) => ['a,b,y', ...Array.from({ length: n }, (_, i) => `${i},${i % 3},${label(i)}`)].join('\n') + '\n';

  it('no library option names in the hints (maxClasses, missing, singletonClasses, delimiter)', async () => {
    const float = await failure(table((i) => (i * 0.37).toFixed(2), 150));
    expect(float.message).toMatch(/150 distinct values in the class column/);
    expect(float.hint).toBe('is it a continuous target or an id? choose the class column with --target');
    const text = await failure(table((i) => String(i % 2)).replace('\n3,0,1\n', '\n3,foo,1\n'));
    expect(text.message).toMatch(/row 5, column 2 \(b\): non-numeric value "foo"/);
    expect(text.hint).toBe("pass --categorical 'one-hot' to encode text columns as 0/1 columns, leave the cell empty if it marks a missing value, or remove the column");
    const single = await failure(table((i) => (i === 7 ? 'typo' : String(i % 2))));
    expect(single.message).toMatch(/^option --data: too few examples per class .*class 'typo' has only 1 example/);
    expect(single.hint).toBe("a class with one example cannot be both trained on and tested: add examples of class 'typo', or fix or remove its row (is the label a typo?)");
    const oneColumn = await failure('a|b|y\n1|2|p\n');
    expect(oneColumn.hint).toBe("separate the columns with ',', ';' or tab");
    for (const e of [float, text, single, oneColumn]) expect(`${e.message} ${e.hint}`).not.toMatch(/`(maxClasses|missing|singletonClasses|delimiter)`/);
  });

  it('a binary or gzip-compressed file is one short line naming the file', async () => {
    const bin = await failure(Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01'), Buffer.alloc(200, 0), Buffer.from('"abc",x\n'.repeat(100))]), 'node.csv');
    expect(bin.message).toMatch(/node\.csv: not a text CSV file \(NUL byte at offset 7\)$/);
    const gz = await failure(gzipSync(table((i) => String(i % 2))), 'd.csv.gz');
    expect(gz.message).toMatch(/d\.csv\.gz: gzip-compressed: decompress it first$/);
    for (const e of [bin, gz]) expect(e.message.length).toBeLessThan(200);
  });

  it("labels '1' and '1.0' in one column: a WARNING line above the table, the classes kept apart", async () => {
    const d = tmp();
    writeFileSync(path.join(d, 'mixed2.csv'), table((i) => (i % 2 === 0 ? '0' : i % 4 === 1 ? '1.0' : '1'), 40));
    const ok = await runExperiment(tabularExperiment, { ...base, models: ['majority'], data: 'mixed2.csv', folds: 2, cwd: d, out: path.join(d, 'o2') });
    expect(ok.report.terminal).toContain("WARNING: class labels '1' and '1.0' are different text but the same number; they are kept as 2 classes");
    expect(ok.report.terminal).toMatch(/40 rows, 2 features, 3 classes/);
  });
});
