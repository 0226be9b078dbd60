import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '@chainz/data';
import { assertAdapterConformance } from '@chainz/data/testing';
import plugin, { dnaJunctionAdapter, loadDnaJunction, parseDnaWindow } from './index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.resolve(process.env.CHAINZ_DATA_DIR ?? path.join(here, '../../../shared/data'));
const haveDna = existsSync(path.join(dataDir, 'uci', 'dna.csv'));

const dir = mkdtempSync(path.join(tmpdir(), 'chainz-plugin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const header = [...Array.from({ length: 180 }, (_, j) => `V${j + 1}`), 'class'].join(',');
const row = (cls: string, bit = '0') => [...Array.from({ length: 180 }, (_, j) => (j === 60 ? bit : '0')), cls].join(',');

describe('plugin module', () => {
  it('default-exports { name, adapters } with the adapter', () => {
    expect(plugin.name).toBe('chainz-plugin-dna-junction');
    expect(plugin.adapters).toEqual([dnaJunctionAdapter]);
    expect(dnaJunctionAdapter.describe().modality).toBe('tabular');
  });

  it.skipIf(!haveDna)('passes the conformance kit on the shared DNA file', async () => {
    const report = await assertAdapterConformance(dnaJunctionAdapter, {
      loadOptions: { dataDir },
      expect: { modality: 'tabular', task: 'classification', rows: { all: 3186 }, features: 60, classNames: ['ei', 'ie', 'n'] },
    });
    expect(report.ok).toBe(true);
    const ds = await loadDnaJunction({ dataDir });
    expect(ds.featureNames![0]).toBe('V61');
    expect(ds.featureNames!.at(-1)).toBe('V120');
    expect(ds.warnings).toEqual([]);
    ds.dispose();
  });

  it('passes the conformance kit on a small hand-written copy (flagged as a different copy)', async () => {
    const file = path.join(dir, 'dna.csv');
    writeFileSync(file, [header, row('ei', '1'), row('n'), row('ie'), ''].join('\n'));
    await assertAdapterConformance(dnaJunctionAdapter, { loadOptions: { path: file }, expect: { rows: { all: 3 }, features: 60 } });
    const ds = await loadDnaJunction({ path: file });
    expect([...ds.splits.all.labels]).toEqual([0, 2, 1]);
    expect((ds.splits.all.features!.arraySync() as number[][])[0][0]).toBe(1);
    expect(ds.warnings![0]).toMatch(/^this file differs from the reference copy of uci\/dna\.csv/);
    ds.dispose();
  });

  it('names file, row and column for bad cells, classes and headers', () => {
    const bad = (text: string) => {
      try {
        parseDnaWindow(text, '/x/dna.csv');
      } catch (e) {
        expect(e).toBeInstanceOf(DataError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(bad([header, row('ei', '2')].join('\n'))).toBe('/x/dna.csv, row 2, column 61 (V61): expected 0 or 1, found "2"');
    expect(bad([header, row('xx')].join('\n'))).toBe('/x/dna.csv, row 2, column 181 (class): class "xx" is not one of ei, ie, n');
    expect(bad([header.replace('V7,', 'W7,'), row('ei')].join('\n'))).toBe('/x/dna.csv, row 1, column 7: expected the header V1,…,V180,class; column 7 is "W7"');
    expect(bad([header, '0,1,ei'].join('\n'))).toBe('/x/dna.csv, row 2: expected 181 cells, found 3');
    expect(bad(header)).toBe('/x/dna.csv, row 1: no data rows (only a header line)');
  });
});
