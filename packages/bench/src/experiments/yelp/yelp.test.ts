import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { describeBackends } from '@chainz/core/test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { yelpExperiment } from '.';
import { runExperiment } from '../../runner/run';

/** The experiment run from code, with the terminal table as `table`. */
const runYelpBench = async (o: Parameters<typeof runExperiment<any, any, any, any>>[1]) => {
  const r = await runExperiment(yelpExperiment, o as never);
  return { ...r, table: r.report.terminal };
};
import { writeTinyYelp } from '../common/text.fixtures';

// The real heads (yelp.config.ts) would make few updates on 20 training reviews: the tiny run overrides schedule and width.
const FAST = { hidden: [32, 32], learningRate: 1e-2, epochs: 30, batchSize: 16 };
const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-yelp-'));

describeBackends(['wasm'], () => {
  it('chainz bench yelp: k-fold on a sample, ordinal and softmax heads, accuracy + MAE + QWK, resume', async () => {
    const root = tmp();
    const y = writeTinyYelp(root, 'sample', 50);
    const dir = path.join(root, 'run');
    const opts = { yelpDir: y.path, encoder: `precomputed:${y.embeddings}`, cacheDir: path.join(root, 'cache'), folds: 2, models: ['cr', 'logreg-softmax'], modelOverrides: FAST, progress: 'none' as const, backend: tf.getBackend(), workers: 1 };
    const before = tf.memory().numTensors;
    const out = await runYelpBench({ ...opts, out: dir });
    expect(tf.memory().numTensors).toBe(before);
    const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc.status).toBe('complete');
    expect(doc.protocol).toMatchObject({ kind: 'repeated stratified k-fold', folds: 2, repeats: 1 });
    expect(doc.data.scale).toBe('reduced');
    expect(doc.units).toHaveLength(4);
    for (const u of doc.units) {
      expect(u.info.mae).toBeGreaterThanOrEqual(0);
      expect(u.info.qwk).toBeLessThanOrEqual(1);
    }
    const cr = doc.models.find((m: { name: string }) => m.name === 'cr');
    expect(cr.config).toMatchObject({ ...FAST, head: 'ordinal' });
    expect(doc.models.find((m: { name: string }) => m.name === 'logreg-softmax').config).toMatchObject({ hidden: [], head: 'softmax' });
    expect(cr.accuracy.mean).toBeGreaterThan(0.4); // chance 0.2
    expect(cr.mae.mean).toBeLessThan(1);
    expect(cr.qwk.mean).toBeGreaterThan(0.5);
    // folds: corrected resampled t shown, plus paired t and Wilcoxon
    expect(new Set(doc.comparisons.map((c: { test: string }) => c.test))).toEqual(new Set(['corrected-resampled-t', 'paired-t', 'wilcoxon']));
    expect(out.table).toContain('REDUCED SCALE (50-review sample)');
    expect(out.table).toMatch(/\| cr +\| ordinal +\|/);
    expect(out.table).toMatch(/\| logreg-softmax +\| softmax +\|/);
    expect(out.table).toContain('paper: ChainzRule, full Yelp');
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('paper: ChainzRule ordinal regression (full Yelp Review Full');
    for (const l of out.table.split('\n').filter((x) => x.startsWith('|'))) expect(l.length, l).toBeLessThanOrEqual(120);
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('Reduced scale');

    writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ ...doc, units: doc.units.slice(0, 2) }));
    const resumed = await runYelpBench({ ...opts, resume: dir });
    expect(resumed.computedUnits).toBe(2);
    const doc2 = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc2.units.map((u: { info: { qwk: number } }) => u.info.qwk)).toEqual(doc.units.map((u: { info: { qwk: number } }) => u.info.qwk));
  }, 60_000);

  it('chainz bench yelp: official train/test files → fixed split over seeds', async () => {
    const root = tmp();
    const y = writeTinyYelp(root, 'official', 40);
    const out = await runYelpBench({ yelpDir: y.path, encoder: `precomputed:${y.embeddings}`, cacheDir: path.join(root, 'cache'), seeds: 2, models: ['logreg', 'logreg-softmax'], out: path.join(root, 'run'), progress: 'none', backend: tf.getBackend(), workers: 1 });
    const doc = JSON.parse(readFileSync(path.join(out.dir, 'results.json'), 'utf8'));
    expect(doc.protocol).toMatchObject({ kind: 'fixed split, seeds', seeds: 2 });
    expect(doc.data.rows).toEqual({ train: 40, test: 20 });
    expect(doc.data.scale).toBe('full');
    expect(doc.units).toHaveLength(4);
    expect(doc.comparisons.map((c: { test: string }) => c.test).sort()).toEqual(['paired-t', 'wilcoxon']);
    await expect(runYelpBench({ yelpDir: y.path, encoder: `precomputed:${y.embeddings}`, folds: 3, out: path.join(root, 'x'), progress: 'none', backend: 'wasm', workers: 1 })).rejects.toThrow(/--folds/);
  }, 60_000);
});

describe('chainz bench yelp options', () => {
  it('bad options fail with the option named', async () => {
    const root = tmp();
    const base = { progress: 'none' as const, backend: 'cpu', workers: 1, out: path.join(root, 'o') };
    await expect(runYelpBench({ ...base, folds: 1 })).rejects.toThrow(/option --folds: must be an integer from 2 to 1000, got 1/);
    await expect(runYelpBench({ ...base, models: ['svm'] })).rejects.toThrow(/--models: unknown model\(s\) svm; choose from cr, cr-nodreg, relu-mlp, gelu-mlp, logreg, cr-softmax, logreg-softmax/);
    await expect(runYelpBench({ ...base, encoder: 'precomputed:' })).rejects.toThrow(/--encoder/);
    const y = writeTinyYelp(root, 'sample', 20);
    await expect(runYelpBench({ ...base, yelpDir: y.path, encoder: `precomputed:${y.embeddings}`, seeds: 2 })).rejects.toThrow(/--seeds/);
    await expect(runYelpBench({ ...base, yelpDir: path.join(root, 'missing.csv') })).rejects.toThrow(/missing\.csv/);
  });

  it('fold and location errors name --folds and --yelp-dir, before any embedding', async () => {
    const root = tmp();
    const base = { progress: 'none' as const, backend: 'cpu', workers: 1, out: path.join(root, 'o') };
    const y = writeTinyYelp(root, 'sample', 20); // 4 reviews per class
    // the encoder file does not exist: the fold error must come before the encoder is touched
    const many = await runYelpBench({ ...base, yelpDir: y.path, encoder: `precomputed:${path.join(root, 'none.jsonl')}`, folds: 30 }).catch((e) => e);
    expect(many.message).toBe('option --folds: 30 folds but only 20 examples to split; every test fold needs at least one');
    expect(many.hint).toBe('choose --folds <= 20');
    const empty = await runYelpBench({ ...base, yelpDir: path.join(root, 'o-none') }).catch((e) => e);
    expect(empty.hint).toMatch(/or pass a file or folder as --yelp-dir$/);
  });
});
