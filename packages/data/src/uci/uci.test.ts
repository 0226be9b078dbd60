import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '@chainz/core';
import { listAdapters } from '../adapter';
import { registerBuiltinAdapters } from '../builtins';
import { loadUciDataset, UCI_ADAPTERS } from './adapter';
import { UCI_DATASET_NAMES, UCI_DATASETS } from './specs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const dataDir = path.resolve(process.env.CHAINZ_DATA_DIR ?? path.join(root, '../shared/data'));
const manifest = path.join(dataDir, 'MANIFEST.md');
const have = (name: string) => existsSync(path.join(dataDir, 'uci', `${name}.csv`));

const dir = mkdtempSync(path.join(tmpdir(), 'chainz-uci-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
function tmp(content: string, name = `u${count++}.csv`): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

const GLASS_HEADER = 'RI,Na,Mg,Al,Si,K,Ca,Ba,Fe,class';
const glassRow = (i: number, cls: string) => `1.5${i},13.${i},4.4,1.1,71.7,0.06,8.7,0,0,${cls}`;

async function reject(p: Promise<unknown>): Promise<DataError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(DataError);
  return e as DataError;
}

describe('UCI specs', () => {
  it('every adapter is registered as a built-in, tabular, with the spec name', () => {
    registerBuiltinAdapters();
    const tabular = listAdapters({ modality: 'tabular' }).map((a) => a.name);
    for (const name of UCI_DATASET_NAMES) expect(tabular).toContain(name);
    expect(tabular).toContain('pima');
    expect(listAdapters({ modality: 'text' }).map((a) => a.name)).not.toContain('sonar');
    for (const a of UCI_ADAPTERS) {
      const d = a.describe();
      expect(d).toMatchObject({ name: a.name, task: 'classification', modality: 'tabular', builtIn: false });
      expect(d.source).toContain(`uci/${a.name}.csv`);
    }
  });

  it('counts are consistent: features = names, classes = counts, rows = Σ counts', () => {
    for (const s of Object.values(UCI_DATASETS)) {
      expect(s.featureNames.length).toBe(s.features);
      expect(s.classCounts.length).toBe(s.classNames.length);
      expect(s.classCounts.reduce((a, b) => a + b, 0)).toBe(s.rows);
      expect(new Set(s.classNames).size).toBe(s.classNames.length);
      // the documented class order is the CSV readers' `sorted` rule
      const sorted = s.classNames.every((c) => /^\d+$/.test(c)) ? [...s.classNames].sort((a, b) => Number(a) - Number(b)) : [...s.classNames].sort();
      expect(s.classNames).toEqual(sorted);
      expect(s.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it.skipIf(!existsSync(manifest))("checksums equal the data folder's MANIFEST", () => {
    const text = readFileSync(manifest, 'utf8');
    for (const s of Object.values(UCI_DATASETS)) expect(text).toContain(`${s.sha256}  ./uci/${s.name}.csv`);
  });
});

describe.each(UCI_DATASET_NAMES)('%s (reference copy)', (name) => {
  const spec = UCI_DATASETS[name];
  it.skipIf(!have(name))('loads with the MANIFEST counts, classes, checksum and provenance; dispose frees it', async () => {
    const before = tf.memory().numTensors;
    const ds = await loadUciDataset(name, { dataDir });
    const x = ds.splits.all.features!;
    expect(x.shape).toEqual([spec.rows, spec.features]);
    expect(x.dtype).toBe('float32');
    expect(ds.classNames).toEqual(spec.classNames);
    expect(ds.featureNames).toEqual(spec.featureNames);
    const y = ds.splits.all.labels;
    expect(y.length).toBe(spec.rows);
    const counts = spec.classNames.map((_, k) => y.filter((v) => v === k).length);
    expect(counts).toEqual(spec.classCounts);
    const values = x.dataSync() as Float32Array;
    expect(values.reduce((c: number, v: number) => (Number.isNaN(v) ? c + 1 : c), 0)).toBe(spec.missingCells);
    expect(ds.provenance.sha256).toEqual([spec.sha256]);
    expect(ds.provenance.files).toEqual([path.join(dataDir, 'uci', `${name}.csv`)]);
    expect(ds.provenance.rows).toEqual({ all: spec.rows });
    expect(ds.provenance.source).toContain(`data set ${spec.mlbench}`);
    expect(ds.provenance.citation).toContain('Dua, D. & Graff, C. (2017)');
    expect((ds.warnings ?? []).some((w) => w.includes('differs from the reference copy'))).toBe(false);
    ds.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('UCI adapter behaviour', () => {
  it.skipIf(!have('glass'))('reads CHAINZ_DATA_DIR, and path overrides it', async () => {
    const saved = process.env.CHAINZ_DATA_DIR;
    process.env.CHAINZ_DATA_DIR = dataDir;
    try {
      const ds = await loadUciDataset('glass');
      expect(ds.provenance.files[0]).toBe(path.join(dataDir, 'uci', 'glass.csv'));
      ds.dispose();
      const other = tmp([GLASS_HEADER, glassRow(1, '1'), glassRow(2, '2'), glassRow(3, '1')].join('\n'));
      const own = await loadUciDataset('glass', { path: other });
      expect(own.provenance.files).toEqual([other]);
      own.dispose();
    } finally {
      if (saved === undefined) delete process.env.CHAINZ_DATA_DIR;
      else process.env.CHAINZ_DATA_DIR = saved;
    }
  });

  it.skipIf(!have('breast-cancer'))("duplicates: 'drop' keeps the first copy of each row", async () => {
    const ds = await loadUciDataset('breast-cancer', { dataDir, duplicates: 'drop' });
    expect(ds.splits.all.labels.length).toBe(699 - 236);
    expect(ds.warnings).toContain('duplicates dropped: 236 exact copies removed, 463 of 699 rows kept (the first copy of each)');
    ds.dispose();
  });

  it('a different copy loads, flagged in warnings and notes (not an error)', async () => {
    const file = tmp([GLASS_HEADER.replace('Na', 'Sodium'), glassRow(1, '1'), glassRow(2, '2'), glassRow(3, '7'), glassRow(4, '1')].join('\n'));
    const ds = await loadUciDataset('glass', { path: file });
    const line =
      "this file differs from the reference copy (sha256 edb229afdcb0…): 4 rows (reference 214), class counts 2/1/0/0/0/1 (reference 70/76/17/13/9/29), 1 column name(s) differ, e.g. column 2 'Sodium' (reference 'Na')";
    expect(ds.warnings![0]).toBe(line);
    expect(ds.provenance.notes![0]).toBe(line);
    expect(ds.classNames).toEqual(['1', '2', '3', '5', '6', '7']);
    expect([...ds.splits.all.labels]).toEqual([0, 1, 5, 0]);
    ds.dispose();
  });

  it('refuses a class outside the set, a wrong column count and a missing file, naming the file', async () => {
    const unknown = tmp([GLASS_HEADER, glassRow(1, '1'), glassRow(2, '4')].join('\n'));
    expect((await reject(loadUciDataset('glass', { path: unknown }))).message).toBe(`${unknown}, row 3, column 10 (class): class "4" is not one of 1, 2, 3, 5, 6, 7`);
    const wide = tmp(['a,' + GLASS_HEADER, '0,' + glassRow(1, '1'), '0,' + glassRow(2, '2')].join('\n'));
    const e = await reject(loadUciDataset('glass', { path: wide }));
    expect(e.message).toBe(`${wide}, row 1: expected 9 feature columns and the class column last (10 columns), found 11 columns`);
    expect(e.hint).toMatch(/loadTabularCsv$/);
    const none = path.join(dir, 'none.csv');
    expect((await reject(loadUciDataset('sonar', { path: none }))).message).toBe(`${none}: sonar CSV not found`);
    const emptyRoot = path.join(dir, 'empty-root');
    mkdirSync(emptyRoot, { recursive: true });
    const missing = await reject(loadUciDataset('sonar', { dataDir: emptyRoot }));
    expect(missing.message).toBe(`${path.join(emptyRoot, 'uci', 'sonar.csv')}: sonar CSV not found (looked in dataDir ${emptyRoot})`);
    expect(missing.hint).toMatch(/set CHAINZ_DATA_DIR to the folder holding uci\/, or pass the CSV file as `path`$/);
  });

  it('with no location at all, names the options and the variable', async () => {
    const saved = process.env.CHAINZ_DATA_DIR;
    delete process.env.CHAINZ_DATA_DIR;
    try {
      const e = await reject(loadUciDataset('vowel'));
      expect(e.message).toBe("option path: no location for dataset 'vowel': set CHAINZ_DATA_DIR or pass `path` or `dataDir`");
      expect(e.withOptionNames({ path: '--data', dataDir: null }).message).toBe("option --data: no location for dataset 'vowel': set CHAINZ_DATA_DIR or pass --data");
    } finally {
      if (saved !== undefined) process.env.CHAINZ_DATA_DIR = saved;
    }
  });
});
