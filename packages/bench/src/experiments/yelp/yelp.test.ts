import { describe, expect, it, vi } from 'vitest';
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
import { writeTinyGloveVectors, writeTinyYelp } from '../common/text.fixtures';

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

describeBackends(['wasm'], () => {
  it('--encoder glove:<file>,precomputed:<file> on the sample: the same folds on each encoder, corrected t for the encoder effect, GloVe caveat, OOV', async () => {
    const root = tmp();
    vi.stubEnv('CHAINZ_CACHE_DIR', path.join(root, 'home-cache'));
    try {
      const y = writeTinyYelp(root, 'sample', 50);
      const vectors = writeTinyGloveVectors(root);
      const vecs = path.join(root, 'vecs.jsonl'); // a short table name, as `use-lite` would be
      writeFileSync(vecs, readFileSync(y.embeddings));
      const out = await runYelpBench({ yelpDir: y.path, encoder: `glove:${vectors},precomputed:${vecs}`, cacheDir: path.join(root, 'cache'), folds: 2, models: ['cr', 'logreg-softmax'], modelOverrides: FAST, out: path.join(root, 'run'), progress: 'none', backend: tf.getBackend(), workers: 1 });
      const doc = JSON.parse(readFileSync(path.join(out.dir, 'results.json'), 'utf8'));
      expect(doc.units).toHaveLength(8);
      expect(doc.protocol).toMatchObject({ kind: 'repeated stratified k-fold', folds: 2 });
      expect(doc.protocol.encoders).toHaveLength(2);
      // Texts `review all <i>: great×c food`: `all`, the number and `:` have no vector → 3 of 5 + c tokens; Σ = 350, OOV 150.
      expect(doc.data.encoders[0].coverage.all).toMatchObject({ texts: 50, tokens: 350, oovTokens: 150, emptyTexts: 0 });
      expect(doc.data.encoders[0].coverage.all.oovRate).toBeCloseTo(3 / 7, 15);
      // same folds on each encoder: the pairs are by (repeat, fold); k-fold → corrected resampled t as headline
      const effect = doc.encoderComparisons as { model: string; test: string }[];
      expect(effect.map((c) => `${c.model}/${c.test}`).sort()).toEqual(
        ['cr', 'logreg-softmax'].flatMap((m) => ['corrected-resampled-t', 'paired-t', 'wilcoxon'].map((t) => `${m}/${t}`)),
      );
      const qwk = doc.models.map((m: { name: string; encoder: string; qwk: { mean: number } }) => [m.name, m.encoder, typeof m.qwk.mean]);
      expect(qwk).toEqual([
        ['cr', 'glove:tiny', 'number'],
        ['logreg-softmax', 'glove:tiny', 'number'],
        ['cr', 'vecs', 'number'],
        ['logreg-softmax', 'vecs', 'number'],
      ]);
      for (const l of out.table.split('\n')) expect(l.length, l).toBeLessThanOrEqual(120);
      expect(out.table).toMatch(/^\| cr +\| glove:tiny +\| ordinal \|/m);
      expect(out.table).toMatch(/^\| paper: ChainzRule, full Yelp +\| GloVe +\|/m);
      expect(out.table.replace(/\n +/g, ' ')).toContain("NOTE: GloVe is the paper's kind of encoder for Yelp (fixed GloVe embeddings), but not necessarily its vectors: the paper does not say which GloVe variant or pooling; ours are tiny.txt, averaged.");
      expect(out.table.replace(/\n +/g, ' ')).toContain('paired by fold (same folds); corrected t, Holm over heads.');
      expect(out.table).toContain('OOV: 42.86% of tokens; texts with no known word: 0.');
      const summary = readFileSync(path.join(out.dir, 'summary.md'), 'utf8');
      expect(summary).toContain("Encoder: the paper's 70.17 uses fixed GloVe embeddings, so GloVe is the paper's own kind of encoder for Yelp");
      expect(summary).toContain('p, corrected t (Holm)');
    } finally {
      vi.unstubAllEnvs();
    }
  }, 120_000);
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
