import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '@chainz/core';
import { loadPima, pimaAdapter, PIMA_FEATURE_NAMES } from './adapter';
import { PIMA_CSV, PIMA_CSV_SHA256 } from './pima-csv.generated';

/** sha256 of pima/pima-indians-diabetes.csv as listed in data/MANIFEST.md. */
const MANIFEST_SHA256 = 'd579e2243fd8bff59098eafc42ac88c80c1e90785d9f53f9285732c3d3d5e591';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const dataDir = process.env.CHAINZ_DATA_DIR ?? path.join(root, '../shared/data');
const manifest = path.join(dataDir, 'MANIFEST.md');
const sharedCsv = path.join(dataDir, 'pima/pima-indians-diabetes.csv');

const dir = mkdtempSync(path.join(tmpdir(), 'chainz-pima-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
function tmp(content: string): string {
  const p = path.join(dir, `p${count++}.csv`);
  writeFileSync(p, content);
  return p;
}
const lines = PIMA_CSV.trimEnd().split('\n');
const body = lines.slice(1);

async function rejects(opts: Parameters<typeof loadPima>[0], message: string | RegExp): Promise<DataError> {
  const err = await loadPima(opts).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DataError);
  if (typeof message === 'string') expect((err as Error).message).toBe(message);
  else expect((err as Error).message).toMatch(message);
  return err as DataError;
}

describe('embedded Pima CSV', () => {
  it("has the MANIFEST's sha256", () => {
    const sha = createHash('sha256').update(PIMA_CSV, 'utf8').digest('hex');
    expect(sha).toBe(MANIFEST_SHA256);
    expect(PIMA_CSV_SHA256).toBe(MANIFEST_SHA256);
  });

  it.skipIf(!existsSync(manifest))('matches the line in data/MANIFEST.md', () => {
    expect(readFileSync(manifest, 'utf8')).toContain(`${PIMA_CSV_SHA256}  ./pima/pima-indians-diabetes.csv`);
  });
});

describe('pima adapter', () => {
  it('loads 768 × 8 raw values, zeros → NaN in the five columns, labels neg 0 / pos 1', async () => {
    const before = tf.memory().numTensors;
    const ds = await pimaAdapter.load();
    const x = ds.splits.all.features!;
    expect(x.shape).toEqual([768, 8]);
    expect(x.dtype).toBe('float32');
    expect(ds.featureNames).toEqual([...PIMA_FEATURE_NAMES]);
    expect(ds.classNames).toEqual(['neg', 'pos']);
    const y = ds.splits.all.labels;
    expect(y.reduce((s, v) => s + v, 0)).toBe(268);
    const v = x.dataSync();
    // first row: 6,148,72,35,0,33.6,0.627,50,pos — insulin 0 → NaN
    expect([...v.subarray(0, 8)]).toEqual([6, 148, 72, 35, NaN, Math.fround(33.6), Math.fround(0.627), 50]);
    expect(y[0]).toBe(1);
    expect(y[1]).toBe(0);
    // NaN counts per column (zeros in the CSV): glucose 5, pressure 35, triceps 227, insulin 374, mass 11;
    // pregnant keeps its 111 real zeros.
    const nan = new Array(8).fill(0);
    const zero = new Array(8).fill(0);
    for (let i = 0; i < 768; i++) for (let j = 0; j < 8; j++) {
      if (Number.isNaN(v[i * 8 + j])) nan[j]++;
      if (v[i * 8 + j] === 0) zero[j]++;
    }
    expect(nan).toEqual([0, 5, 35, 227, 374, 11, 0, 0]);
    expect(zero[0]).toBe(111);
    expect(ds.provenance).toMatchObject({ files: ['embedded'], sha256: [MANIFEST_SHA256], rows: { all: 768 } });
    expect(ds.provenance.licence).toMatch(/GPL-2/);
    expect(ds.provenance.notes).toContain('classes: 500 neg, 268 pos');
    ds.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(!existsSync(sharedCsv))('reads the shared file via path and dataDir, identical to the embedded copy', async () => {
    const emb = await loadPima();
    for (const opts of [{ path: sharedCsv }, { dataDir }]) {
      const ds = await loadPima(opts);
      expect(ds.provenance.files).toEqual([path.resolve(sharedCsv)]);
      expect(ds.provenance.sha256).toEqual([MANIFEST_SHA256]);
      expect(ds.provenance.notes?.some((n) => n.includes('differs'))).toBe(false);
      expect([...ds.splits.all.labels]).toEqual([...emb.splits.all.labels]);
      ds.dispose();
    }
    emb.dispose();
  });

  it('reads a copy without header with 0/1 labels, and a Kaggle-style header', async () => {
    const emb = await loadPima();
    const ref = emb.splits.all.features!.dataSync();
    const noHeader = tmp(body.map((l) => l.replace(/neg$/, '0').replace(/pos$/, '1')).join('\n') + '\n');
    const a = await loadPima({ path: noHeader });
    expect([...a.splits.all.labels]).toEqual([...emb.splits.all.labels]);
    expect([...a.splits.all.features!.dataSync()]).toEqual([...ref]);
    expect(a.provenance.notes?.some((n) => n.includes('differs from the reference copy'))).toBe(true);
    const kaggle = tmp(['Pregnancies,Glucose,BloodPressure,SkinThickness,Insulin,BMI,DiabetesPedigreeFunction,Age,Outcome', ...body].join('\n'));
    const b = await loadPima({ path: kaggle });
    expect(b.splits.all.labels.length).toBe(768);
    [emb, a, b].forEach((d) => d.dispose());
  });

  it('bad input: missing/empty file, column count, cells, classes, header', async () => {
    const missing = path.join(dir, 'none.csv');
    await rejects({ path: missing }, `${missing}: Pima CSV not found`);
    const empty = tmp('');
    await rejects({ path: empty }, `${empty}: Pima CSV is empty (0 bytes)`);
    const short = tmp([lines[0], ...body.slice(0, 3), '1,2,3,4,5,6,7,neg', ...body.slice(3)].join('\n'));
    await rejects({ path: short }, `${short}, row 5, column 9 (diabetes): expected 9 columns, found 8`);
    const ten = tmp(body.map((l) => `${l},1`).join('\n'));
    await rejects({ path: ten }, `${ten}, row 1: the file has 10 columns where the Pima layout needs 9`);
    // another table altogether: no column number past its end, and where such files go
    const five = tmp(['a,b,c,d,y', ...body.map((l) => l.split(',').slice(4).join(','))].join('\n'));
    const fiveErr = await rejects({ path: five }, `${five}, row 1: the file has 5 columns where the Pima layout needs 9`);
    expect(fiveErr.location.column).toBeUndefined();
    expect(fiveErr.hint).toMatch(/other CSV files run with `chainz bench tabular --data FILE`/);
    const text = tmp([lines[0], body[0], body[1].replace(/^1,85/, '1,eighty')].join('\n'));
    await rejects({ path: text }, `${text}, row 3, column 2 (glucose): non-numeric value "eighty"`);
    const emptyCell = tmp([lines[0], body[0].replace(/^6,148/, '6,'), body[1]].join('\n'));
    const emptyErr = await rejects({ path: emptyCell }, `${emptyCell}, row 2, column 2 (glucose): empty cell`);
    const nanCell = tmp([lines[0], body[0], body[1].replace(/,0\.351,/, ',NaN,')].join('\n'));
    const nanErr = await rejects({ path: nanCell }, `${nanCell}, row 3, column 7 (pedigree): "NaN" is not allowed here`);
    // Pima has no `missing` option: the hint says how to fix the file instead
    for (const e of [emptyErr, nanErr]) {
      expect(e.hint).toBe(
        'every Pima cell must be a number: write 0 for a missing glucose, pressure, triceps, insulin or mass value (zeros there are read as missing); the other columns have no missing values, so fix or remove the row',
      );
    }
    const oneClass = tmp([lines[0], ...body.filter((l) => l.endsWith('neg'))].join('\n'));
    await rejects({ path: oneClass }, `${oneClass}, column 9 (diabetes): only one class (neg) in the class column; Pima needs both`);
    const badClass = tmp([lines[0], body[0], body[1].replace(/neg$/, 'maybe')].join('\n'));
    await rejects({ path: badClass }, `${badClass}, row 3, column 9 (diabetes): class "maybe" is not neg/pos or 0/1`);
    const swapped = tmp(['pregnant,pressure,glucose,triceps,insulin,mass,pedigree,age,diabetes', ...body].join('\n'));
    await rejects({ path: swapped }, `${swapped}, row 1, column 2: unexpected column name 'pressure', expected 'glucose'`);
    // a ';'-delimited copy is fine (delimiter auto-detected)
    const semi = await loadPima({ path: tmp(body.map((l) => l.replaceAll(',', ';')).join('\n')) });
    expect(semi.splits.all.features!.shape).toEqual([768, 8]);
    semi.dispose();
  });

  it('a column that is entirely missing names the file and the column; extreme values and duplicated rows are warned about', async () => {
    // glucose all zero = all missing (zeros mean missing there)
    const noGlucose = tmp([lines[0], ...body.map((l) => l.replace(/^(\d+),\d+,/, '$1,0,'))].join('\n'));
    const e = await rejects(
      { path: noGlucose },
      `${noGlucose}, column 2 (glucose): every cell of this feature column is missing (768 rows); nothing can be imputed from it`,
    );
    expect(e.location).toEqual({ file: noGlucose, column: '2 (glucose)' });
    // the first 50 rows repeated, and one cell of 1e30
    const leaky = tmp([lines[0], ...body, ...body.slice(0, 50), body[0].replace(/^6,/, '1e30,')].join('\n'));
    const ds = await loadPima({ path: leaky });
    expect(ds.warnings).toEqual([
      "extreme values: 1 cell with |x| ≥ 1e+15 in 1 column (pregnant: 1; first at row 820): sentinel codes or unit errors? Such values dominate their column's standardisation",
      'duplicated rows: 50 of 819 rows repeat an earlier row exactly (features and label); in cross-validation a copy can be trained on while another is tested, which inflates accuracy',
    ]);
    ds.dispose();
    const embedded = await loadPima();
    expect(embedded.warnings).toEqual([]);
    embedded.dispose();
  });
});
