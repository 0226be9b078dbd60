import { describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { describeBackends } from '@chainz/core/test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PIMA_CSV } from '@chainz/data';
import { efficiencyExperiment, parseFractions } from '.';
import { runExperiment } from '../../runner/run';

/** The experiment run from code, with the terminal table as `table`. */
const runEfficiencyBench = async (o: Parameters<typeof runExperiment<any, any, any, any>>[1]) => {
  const r = await runExperiment(efficiencyExperiment, o as never);
  return { ...r, table: r.report.terminal };
};
import { writeTinyGloveVectors, writeTinySst5 } from '../common/text.fixtures';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-eff-'));

describeBackends(['wasm'], () => {
  it('chainz bench efficiency --dataset pima: fractions × seeds × models, nested subsamples, SVG plots, resume', async () => {
    const dir = path.join(tmp(), 'run');
    const opts = { dataset: 'pima', fractions: [0.05, 0.1], seeds: 1, models: ['cr', 'logreg'], progress: 'none' as const, backend: tf.getBackend(), workers: 1 };
    const before = tf.memory().numTensors;
    const out = await runEfficiencyBench({ ...opts, out: dir });
    expect(tf.memory().numTensors).toBe(before);
    const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc.status).toBe('complete');
    expect(doc.units).toHaveLength(4);
    expect(doc.cells).toHaveLength(4);
    // stratified 5-fold: 614 or 615 training rows; 5% of each class ≈ 31, 10% ≈ 61
    const n = (f: number) => doc.cells.find((c: { model: string; fraction: number }) => c.model === 'cr' && c.fraction === f).nTrain;
    expect(n(0.05)).toBeGreaterThanOrEqual(30);
    expect(n(0.05)).toBeLessThanOrEqual(32);
    expect(n(0.1)).toBeGreaterThanOrEqual(60);
    expect(n(0.1)).toBeLessThanOrEqual(63);
    // minSteps: at 5% (~26 rows after the 15% hold-out, 1 batch per epoch) the epochs are raised to 300
    const u = doc.units.find((x: { model: string; repeat: number }) => x.model === 'cr' && x.repeat === 0);
    expect(u.info.epochs).toBe(300);
    for (const c of doc.cells) {
      expect(c.accuracy.mean).toBeGreaterThan(0.55);
      expect(c.tau.mean).toBeGreaterThanOrEqual(1);
    }
    expect(out.table).toContain('paper (claim): τ (gradient tail ratio) 1.01–1.02 for ChainzRule vs 1.07–1.09');
    expect(out.table).toMatch(/ours \(range of the per-fraction means\): cr τ \d\.\d{3}–\d\.\d{3}/);
    for (const f of ['accuracy.svg', 'tau.svg']) {
      const svg = readFileSync(path.join(dir, f), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('training data used (%)');
    }
    expect(readFileSync(path.join(dir, 'tau.svg'), 'utf8')).toContain('paper claim, ChainzRule τ 1.01–1.02');
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('# efficiency-pima: results');

    writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ ...doc, units: doc.units.slice(0, 3) }));
    const resumed = await runEfficiencyBench({ ...opts, resume: dir });
    expect(resumed.computedUnits).toBe(1);
    const doc2 = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc2.environment.sessions.map((s: { units: number }) => s.units)).toEqual([4, 1]);
    expect(doc2.environment.wallSeconds).toBeGreaterThan(doc.environment.wallSeconds);
    expect(doc2.units.map((x: { accuracy: number }) => x.accuracy)).toEqual(doc.units.map((x: { accuracy: number }) => x.accuracy));
    await expect(runEfficiencyBench({ ...opts, fractions: [0.05], resume: dir })).rejects.toThrow(/different settings/);
  }, 60_000);

  it('chainz bench efficiency --dataset sst5 (tiny trees): full dev for selection, RNTN line', async () => {
    const root = tmp();
    const { trees, embeddings } = writeTinySst5(root, { train: 100, dev: 20, test: 30 });
    const out = await runEfficiencyBench({ dataset: 'sst5', data: trees, encoder: `precomputed:${embeddings}`, cacheDir: path.join(root, 'cache'), fractions: [0.05, 0.5], seeds: 1, models: ['logreg'], out: path.join(root, 'run'), progress: 'none', backend: tf.getBackend(), workers: 1 });
    expect((out.report.doc as { cells: { nTrain: number }[] }).cells.map((c) => c.nTrain)).toEqual([5, 50]); // 5% of 20 per class = 1 each; 50% = 10 each
    expect(out.table).toContain('beating RNTN with about 5% of its training data');
    expect(out.table).toContain('ours: not measured'); // cr was not run
  }, 60_000);

  it('chainz bench efficiency --dataset sst5 --encoder glove:<file>: OOV rate and the GloVe caveat in the table and results.json', async () => {
    const root = tmp();
    vi.stubEnv('CHAINZ_CACHE_DIR', path.join(root, 'home-cache'));
    try {
      const { trees } = writeTinySst5(root, { train: 100, dev: 20, test: 30 });
      const vectors = writeTinyGloveVectors(root);
      const out = await runEfficiencyBench({ dataset: 'sst5', data: trees, encoder: `glove:${vectors}`, cacheDir: path.join(root, 'cache'), fractions: [0.5], seeds: 1, models: ['logreg'], out: path.join(root, 'run'), progress: 'none', backend: tf.getBackend(), workers: 1 });
      const doc = JSON.parse(readFileSync(path.join(out.dir, 'results.json'), 'utf8'));
      expect(doc.data.encoder.coverage.train).toMatchObject({ texts: 100, tokens: 200, oovTokens: 100, oovRate: 0.5 });
      expect(doc.embedding.coverage.test.oovRate).toBe(0.5);
      expect(doc.embedding.notBert).toBe(true);
      expect(out.table).toContain('OOV: 50.00% of tokens in train, 50.00% in dev, 50.00% in test; texts with no known word: 0.');
      expect(out.table).toContain('NOTE: GloVe (averaged word vectors, no word order) is not BERT.');
      for (const line of out.table.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
      expect(doc.cells[0].accuracy.mean).toBeGreaterThan(0.5); // the mood words carry the class
    } finally {
      vi.unstubAllEnvs();
    }
  }, 60_000);
});

describe('chainz bench efficiency options', () => {
  it('parses --fractions in percent and rejects bad values', () => {
    expect(parseFractions('100,1,5')).toEqual([0.01, 0.05, 1]);
    expect(parseFractions('2.5%')).toEqual([0.025]);
    expect(() => parseFractions('0,5')).toThrow(/option --fractions: '0' is not a percentage in \(0, 100\]/);
    expect(() => parseFractions('150')).toThrow(/--fractions/);
    expect(() => parseFractions('a')).toThrow(/--fractions/);
  });

  it('bad options fail with the option named', async () => {
    const base = { progress: 'none' as const, backend: 'cpu', workers: 1, out: path.join(tmp(), 'o') };
    await expect(runEfficiencyBench({ ...base, dataset: 'cifar10' })).rejects.toThrow(/option --dataset: 'cifar10' is not a tabular data set; choose sst5, yelp or a tabular data set: .*pima/);
    await expect(runEfficiencyBench({ ...base, dataset: 'pima', encoder: 'use-lite' })).rejects.toThrow(/--encoder/);
    await expect(runEfficiencyBench({ ...base, dataset: 'sst5', encoder: 'glove,use-lite' })).rejects.toThrow('option --encoder: the sweep takes one encoder; run it once per encoder (an encoder list is for `chainz bench sst5` and `chainz bench yelp`)');
    await expect(runEfficiencyBench({ ...base, dataset: 'pima', fractions: [0] })).rejects.toThrow(/--fractions/);
    await expect(runEfficiencyBench({ ...base, dataset: 'pima', models: ['svm-rbf'] })).rejects.toThrow(/--models: unknown model\(s\) svm-rbf; choose from cr, cr-nodreg, relu-mlp, gelu-mlp, silu-mlp, tanh-mlp, logreg/);
    await expect(runEfficiencyBench({ ...base, dataset: 'pima', seeds: 0 })).rejects.toThrow(/--seeds/);
  });

  it('a --data file with fewer rows per class than the sweep\'s 5 folds is refused naming --data', async () => {
    const d = tmp();
    const rows = PIMA_CSV.trimEnd().split('\n').slice(0, 9); // header + 8 rows: 4 neg, 4 pos
    writeFileSync(path.join(d, 'small.csv'), rows.join('\n'));
    const e = await runEfficiencyBench({ dataset: 'pima', data: 'small.csv', cwd: d, progress: 'none', backend: 'cpu', workers: 1, out: path.join(d, 'o') }).catch((x) => x);
    expect(e.message).toBe('option --data: too few rows per class for the sweep: class 0 has only 4; every seed tests on one fold of a stratified 5-fold split, so each class needs at least 5');
  });
});
