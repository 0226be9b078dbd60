import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '@chainz/core';
import { AdapterConformanceError, assertAdapterConformance, checkAdapterConformance } from './index';
import { defineAdapter, type LoadedDataset } from '../adapter';
import { BUILTIN_ADAPTERS } from '../builtins';
import { readDataFile } from '../csv/io';
import { UCI_DATASETS, type UciDatasetName } from '../uci/specs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const dataDir = path.resolve(process.env.CHAINZ_DATA_DIR ?? path.join(root, '../shared/data'));
const dir = mkdtempSync(path.join(tmpdir(), 'chainz-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const csvFile = path.join(dir, 'small.csv');
writeFileSync(csvFile, 'a,b,y\n1,2,p\n3,4,q\n5,6,p\n');

/** Load options and expectations per built-in adapter, and whether its data is here. */
const setups: Record<string, { available: boolean; loadOptions?: Record<string, unknown>; expect?: Record<string, unknown> }> = {
  pima: { available: true, expect: { modality: 'tabular', rows: { all: 768 }, features: 8, classNames: ['neg', 'pos'] } },
  csv: { available: true, loadOptions: { path: csvFile }, expect: { modality: 'tabular', rows: { all: 3 }, features: 2 } },
  sst5: { available: existsSync(path.join(dataDir, 'sst5/trees/train.txt')), loadOptions: { dataDir }, expect: { modality: 'text', splits: ['train', 'dev', 'test'], rows: { train: 8544, dev: 1101, test: 2210 } } },
  yelp: { available: existsSync(path.join(dataDir, 'yelp')), loadOptions: { dataDir }, expect: { modality: 'text', classes: 5 } },
  cifar10: { available: existsSync(path.join(dataDir, 'cifar10/test_first1000.bin')), loadOptions: { dataDir, split: 'test', limit: 50 }, expect: { modality: 'image', exampleShape: [32, 32, 3], rows: { test: 50 } } },
  cifar10c: { available: existsSync(path.join(dataDir, 'cifar10c/golden-first100/labels.npy')), loadOptions: { path: path.join(dataDir, 'cifar10c/golden-first100') }, expect: { modality: 'image' } },
};
for (const [name, s] of Object.entries(UCI_DATASETS)) {
  setups[name] = {
    available: existsSync(path.join(dataDir, 'uci', `${name}.csv`)),
    loadOptions: { dataDir },
    expect: { modality: 'tabular', rows: { all: s.rows }, features: s.features, classNames: s.classNames, featureNames: s.featureNames },
  };
}

describe('every built-in adapter passes the conformance kit (where its data is here)', () => {
  it('has a set-up for every built-in adapter', () => {
    expect(BUILTIN_ADAPTERS.map((a) => a.name).filter((n) => !(n in setups))).toEqual([]);
  });
  for (const adapter of BUILTIN_ADAPTERS) {
    const s = setups[adapter.name];
    it.skipIf(!s?.available)(adapter.name, async () => {
      const report = await assertAdapterConformance(adapter, { loadOptions: s.loadOptions, expect: s.expect as never });
      expect(report.ok).toBe(true);
      expect(report.checks.filter((c) => c.status === 'pass').length).toBeGreaterThan(25);
      expect(report.checks.find((c) => c.name === 'the missing-file DataError names the file')?.status).toBe('pass');
    });
  }
});

/** A small, correct tabular adapter; `mutate` breaks one thing. */
function fixture(mutate: (ds: LoadedDataset) => void = () => {}, opts: { leak?: boolean; ignorePath?: boolean; modality?: string } = {}) {
  return defineAdapter<{ path?: string }>({
    name: 'fixture',
    describe: () => ({ name: 'fixture', title: 'Fixture', task: 'classification', modality: (opts.modality ?? 'tabular') as 'tabular', source: 'a CSV file', builtIn: false }),
    load: async (o = {}) => {
      if (o.path && !opts.ignorePath) await readDataFile(o.path, 'fixture CSV');
      const features = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      if (opts.leak) tf.scalar(1); // never disposed
      const ds: LoadedDataset = {
        name: 'fixture',
        task: 'classification',
        splits: { all: { features, labels: Int32Array.from([0, 1, 0]) } },
        classNames: ['a', 'b'],
        featureNames: ['x', 'y'],
        provenance: { files: ['/data/f.csv'], sha256: ['a'.repeat(64)], source: 'test', licence: 'MIT', rows: { all: 3 } },
        dispose: () => features.dispose(),
      };
      mutate(ds);
      return ds;
    },
  });
}

const failed = async (a: ReturnType<typeof fixture>, o = {}) => (await checkAdapterConformance(a, o)).failures.map((f) => `${f.name}: ${f.detail}`);

describe('checkAdapterConformance finds broken adapters', () => {
  it('a correct fixture passes, and expectations are checked', async () => {
    expect((await checkAdapterConformance(fixture())).ok).toBe(true);
    expect(await failed(fixture(), { expect: { rows: { all: 4 }, features: 3, classNames: ['b', 'a'], modality: 'text' } })).toEqual([
      "describe().modality is 'text': got \"tabular\"",
      'classNames are as expected: got ["a","b"]',
      'splits.all.features has 3 columns: got 2',
      'splits.all has 4 examples: got 3',
    ]);
  });

  it('labels, classes, features, provenance and warnings', async () => {
    expect(await failed(fixture((ds) => (ds.splits.all.labels = Int32Array.from([0, 2, 0]))))).toEqual(['splits.all.labels are class indices 0 … 1: label 1 is 2']);
    expect(await failed(fixture((ds) => (ds.classNames = ['a', 'a'])))).toEqual(["classNames are unique: 'a' occurs twice"]);
    expect(await failed(fixture((ds) => (ds.classNames = ['a', ''])))).toEqual(['classNames are at least 2 non-empty strings: got ["a",""]']);
    expect(await failed(fixture((ds) => (ds.splits.all.labels = Int32Array.from([0, 0, 0]))))).toEqual(['at least two classes occur in the labels: only a']);
    expect(await failed(fixture((ds) => (ds.splits.all.labels = [0, 1, 0] as never)))).toEqual(['splits.all.labels is an Int32Array: got array of 3']);
    expect(await failed(fixture((ds) => (ds.featureNames = ['x'])))).toEqual(['featureNames are D non-empty strings: 1 names for D = 2']);
    expect(await failed(fixture((ds) => (ds.provenance.sha256 = ['ABC'])))).toEqual(['provenance.sha256 are 64 lower-case hex digits: entry 0 is "ABC"']);
    expect(await failed(fixture((ds) => (ds.provenance.sha256 = []))))
      .toEqual(['provenance.sha256 has one entry per file: 0 checksums for 1 files']);
    expect(await failed(fixture((ds) => (ds.provenance.licence = ''))))
      .toEqual(['provenance.licence is a non-empty string: got ""']);
    expect(await failed(fixture((ds) => (ds.provenance.rows = { all: 5 })))).toEqual(['provenance.rows match the split sizes: all: 5 in provenance, 3 loaded']);
    expect(await failed(fixture((ds) => (ds.warnings = ['two\nlines'])))).toEqual(['warnings are one-line strings: got array of 1']);
    expect(await failed(fixture((ds) => (ds.name = 'other')))).toEqual(['dataset.name equals the adapter name: got "other"']);
    const inf = fixture((ds) => {
      ds.splits.all.features!.dispose();
      const f = tf.tensor2d([1, 2, 3, Infinity, 5, 6], [3, 2]);
      ds.splits.all.features = f;
      ds.dispose = () => f.dispose();
    });
    expect(await failed(inf)).toEqual(['splits.all.features has no ±Infinity (NaN marks missing): row 1, column 2']);
    expect(await failed(fixture(() => {}, { modality: 'audio' }))).toEqual(['describe().modality is one of tabular, text, image: got "audio"']);
  });

  it('a tensor leak, and a missing file that does not fail', async () => {
    const before = tf.memory().numTensors;
    expect(await failed(fixture(() => {}, { leak: true }))).toEqual([
      expect.stringMatching(/^dispose\(\) releases every tensor load\(\) made: 1 tensor\(s\) left \(numTensors \d+ before load, \d+ after dispose\)$/),
    ]);
    expect(tf.memory().numTensors - before).toBe(1); // the fixture's scalar: the kit itself leaks nothing
    // a load that fails after allocating leaks too
    const leakyFail = defineAdapter<{ path?: string }>({
      ...fixture(),
      load: async (o = {}) => {
        const t = tf.zeros([2]);
        if (o.path) await readDataFile(o.path, 'fixture CSV');
        return (await fixture().load({})) as LoadedDataset & { extra?: unknown } & { t?: typeof t };
      },
    });
    expect(await failed(leakyFail)).toEqual([
      expect.stringMatching(/^dispose\(\) releases every tensor load\(\) made: 1 tensor/),
      'a failed load() leaks no tensor: 1 tensor(s) left',
    ]);
    const [f] = await failed(fixture(() => {}, { ignorePath: true }));
    expect(f).toMatch(/^a missing file gives a DataError naming it: load\(\) resolved for the missing file .*fixture\.csv$/);
  });

  it('an adapter whose load throws, or that is not an adapter at all', async () => {
    const throws = defineAdapter({
      name: 'throws',
      describe: () => ({ name: 'throws', title: 't', task: 'classification', modality: 'tabular', source: 's', builtIn: false }),
      load: async () => {
        throw new TypeError('boom');
      },
    });
    const r = await checkAdapterConformance(throws);
    expect(r.failures.map((x) => `${x.name}: ${x.detail}`)).toEqual([
      'load(loadOptions) resolves: it threw TypeError: boom',
      'a missing file gives a DataError: got TypeError: boom',
    ]);
    expect(r.checks.find((c) => c.status === 'skip')?.name).toBe('dataset checks and dispose()');
    const notAnAdapter = await checkAdapterConformance({ name: 'Bad Name' } as never);
    expect(notAnAdapter.failures.map((x) => x.name)).toEqual([
      'specificationVersion is 1',
      "name is lower-case letters, digits and '-'",
      'describe is a function',
      'load is a function',
    ]);
  });

  it('assertAdapterConformance throws one aggregated error', async () => {
    const bad = fixture((ds) => {
      ds.classNames = ['a', 'a'];
      ds.provenance.sha256 = ['x'];
    });
    const e = await assertAdapterConformance(bad).then(() => undefined, (err: unknown) => err as AdapterConformanceError);
    expect(e).toBeInstanceOf(AdapterConformanceError);
    expect(e!.code).toBe('E_CONFIG');
    expect(e!.message).toMatch(/^adapter 'fixture' fails 2 of \d+ conformance checks:\n {2}✗ classNames are unique: 'a' occurs twice\n {2}✗ provenance\.sha256 are 64 lower-case hex digits: entry 0 is "x"$/);
    expect(e!.report.failures).toHaveLength(2);
    await expect(assertAdapterConformance(fixture())).resolves.toMatchObject({ ok: true, adapter: 'fixture' });
  });

  it('missingFileOptions: false skips the missing-file check; a custom one is used as given', async () => {
    const r = await checkAdapterConformance(fixture(() => {}, { ignorePath: true }), { missingFileOptions: false });
    expect(r.ok).toBe(true);
    expect(r.checks.at(-1)).toEqual({ name: 'a missing file gives a DataError naming it', status: 'skip', detail: 'missingFileOptions: false' });
    const custom = path.join(dir, 'elsewhere', 'data.csv');
    const ok = await checkAdapterConformance(fixture(), { missingFileOptions: { path: custom } });
    expect(ok.ok).toBe(true);
    // the kit's own DataError check is real: a DataError that names another file fails
    const wrongName = defineAdapter<{ path?: string }>({
      ...fixture(),
      name: 'wrong-name',
      describe: () => ({ name: 'wrong-name', title: 't', task: 'classification', modality: 'tabular', source: 's', builtIn: false }),
      load: async (o = {}) => {
        if (o.path) throw new DataError('not found', { file: '/somewhere/else.bin' });
        return (await fixture().load({})) as LoadedDataset;
      },
    });
    const r2 = await checkAdapterConformance(wrongName);
    expect(r2.failures.map((x) => x.name)).toEqual(['dataset.name equals the adapter name', 'the missing-file DataError names the file']);
  });
});

it.skipIf(!existsSync(path.join(dataDir, 'uci', 'sonar.csv')))('UCI names used in the set-ups are the spec names', () => {
  expect(Object.keys(UCI_DATASETS) as UciDatasetName[]).toContain('sonar');
});
