import { describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { describeBackends } from '@chainz/core/test';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sst5Experiment } from '.';
import { runExperiment } from '../../runner/run';

/** The experiment run from code, with the terminal table as `table`. */
const runSst5Bench = async (o: Parameters<typeof runExperiment<any, any, any, any>>[1]) => {
  const r = await runExperiment(sst5Experiment, o as never);
  return { ...r, table: r.report.terminal };
};
import { writeTinyGloveVectors, writeTinySst5 } from '../common/text.fixtures';
import { parseEncoderSpec } from '../common/text-embeddings';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-sst5-'));
/** The terminal text with wrapped header lines joined again. */
const unwrap = (t: string) => t.replace(/\n +/g, ' ');

// Run on wasm, the CLI's default backend. The real heads (sst5.config.ts: 256-256, Adam 1e-4, 12 epochs of
// batches of 128) would make ~12 updates on 60 sentences, so the tiny run overrides the schedule and width.
const FAST = { hidden: [32, 32], learningRate: 1e-2, epochs: 30, batchSize: 32 };
describeBackends(['wasm'], () => {
  it('chainz bench sst5 (tiny synthetic trees, precomputed embeddings) trains on train, selects on dev, tests over seeds; writes results.json + summary.md; resumes', async () => {
    const root = tmp();
    const { trees, embeddings } = writeTinySst5(root);
    const dir = path.join(root, 'run');
    const opts = { data: trees, encoder: `precomputed:${embeddings}`, cacheDir: path.join(root, 'cache'), seeds: 2, models: ['cr', 'relu-mlp'], modelOverrides: FAST, progress: 'none' as const, backend: tf.getBackend(), workers: 1 };
    const before = tf.memory().numTensors;
    const out = await runSst5Bench({ ...opts, out: dir });
    expect(tf.memory().numTensors).toBe(before);
    expect(out.computedUnits).toBe(4);
    const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc.status).toBe('complete');
    expect(doc.units).toHaveLength(4);
    expect(doc.protocol).toMatchObject({ kind: 'fixed split, seeds', seeds: 2, validation: 'dev (epoch selection)' });
    expect(doc.data.rows).toEqual({ train: 60, dev: 20, test: 30 });
    expect(doc.data.scale).toBe('full');
    expect(out.table).not.toContain('REDUCED');
    const byModel = Object.fromEntries(doc.models.map((m: { name: string }) => [m.name, m]));
    // 5 classes (chance 0.2); the embeddings carry the label, so a misaligned text ↔ vector ↔ label pipeline fails this.
    expect(byModel.cr.accuracy.mean).toBeGreaterThan(0.5);
    expect(byModel['relu-mlp'].accuracy.mean).toBeGreaterThan(0.5);
    expect(byModel.cr.tau.mean).toBeGreaterThan(1);
    expect(byModel.cr.config).toMatchObject({ ...FAST, activation: 'poly', dreg: { lambda: 10 ** -2.5 } }); // overrides recorded
    // Seeds on one split: paired t and Wilcoxon, no resampling correction.
    expect(doc.comparisons.map((c: { test: string }) => c.test).sort()).toEqual(['paired-t', 'wilcoxon']);
    expect(doc.paper.accuracyMean).toBe(46.2);
    expect(doc.embedding.notBert).toBe(false);
    expect(out.table).toContain('paper: ChainzRule head, frozen BERT');
    expect(out.table).toContain('literature: RNTN');
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('paper: ChainzRule head on frozen BERT embeddings');
    for (const line of out.table.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
    expect(out.table).toContain('Encoder: precomputed vectors from sst5-embeddings.jsonl');
    expect(out.table).toMatch(/\| cr +\|/);
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('paired t-test and Wilcoxon');

    // The embeddings were cached: a second run reads them back.
    // Simulate a crash after 1 unit, then resume: the remaining 3 are computed, numbers identical.
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ ...doc, status: 'running', units: doc.units.slice(0, 1) }));
    const resumed = await runSst5Bench({ ...opts, resume: dir });
    expect(resumed.computedUnits).toBe(3);
    const doc2 = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc2.embedding.cacheHits).toEqual(['train', 'dev', 'test']);
    expect(doc2.units.map((u: { accuracy: number }) => u.accuracy)).toEqual(doc.units.map((u: { accuracy: number }) => u.accuracy));
    // Other settings: refused.
    await expect(runSst5Bench({ ...opts, seeds: 3, resume: dir })).rejects.toThrow(/different settings/);
  }, 60_000);
});

describeBackends(['wasm'], () => {
  it('--encoder glove:<file>,precomputed:<file>: every head on each encoder with the same seeds; encoder column, encoder effect, OOV per split; resume', async () => {
    const root = tmp();
    vi.stubEnv('CHAINZ_CACHE_DIR', path.join(root, 'home-cache')); // the word-vector cache of the GloVe encoder
    try {
      const { trees, embeddings } = writeTinySst5(root);
      const vectors = writeTinyGloveVectors(root);
      const dir = path.join(root, 'run');
      const opts = { data: trees, encoder: `glove:${vectors},precomputed:${embeddings}`, cacheDir: path.join(root, 'cache'), seeds: 2, models: ['cr', 'logreg'], modelOverrides: FAST, progress: 'none' as const, backend: tf.getBackend(), workers: 1 };
      const out = await runSst5Bench({ ...opts, out: dir });
      expect(out.computedUnits).toBe(8);
      const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
      const keys = ['glove:tiny', 'sst5-embeddings'];
      expect(doc.units.map((u: { encoder: string }) => u.encoder).sort()).toEqual([...Array(4).fill(keys[0]), ...Array(4).fill(keys[1])]);
      expect(doc.protocol.encoders).toHaveLength(2);
      expect(doc.protocol.encoders[0]).toMatch(/^glove:[0-9a-f]{16}:mean:tok\d+$/);
      expect(doc.data.encoders.map((e: { key: string }) => e.key)).toEqual(keys);
      // OOV per split: each fixture sentence is `<split><i> mood<c>` and only mood0..mood4 have vectors.
      const cov = doc.data.encoders[0].coverage;
      expect(cov.train).toMatchObject({ texts: 60, tokens: 120, oovTokens: 60, oovRate: 0.5, emptyTexts: 0 });
      expect([cov.dev.oovRate, cov.test.oovRate]).toEqual([0.5, 0.5]);
      expect(cov.train.topOov[0].count).toBe(1);
      expect(doc.data.encoders[1].coverage).toBeUndefined();
      expect(doc.embedding['glove:tiny'].coverage.test.tokens).toBe(60);
      // one summary per (head, encoder), head comparisons within an encoder
      expect(doc.models.map((m: { name: string; encoder: string }) => `${m.name}@${m.encoder}`)).toEqual(['cr@glove:tiny', 'logreg@glove:tiny', 'cr@sst5-embeddings', 'logreg@sst5-embeddings']);
      expect(doc.comparisons.map((c: { encoder: string; b: string; test: string }) => `${c.encoder}/${c.b}/${c.test}`).sort()).toEqual([
        'glove:tiny/logreg/paired-t',
        'glove:tiny/logreg/wilcoxon',
        'sst5-embeddings/logreg/paired-t',
        'sst5-embeddings/logreg/wilcoxon',
      ]);
      // encoder effect: Δ = mean accuracy on the first encoder − on the other, per head
      const acc = (m: string, e: string) => doc.models.find((x: { name: string; encoder: string }) => x.name === m && x.encoder === e).accuracy.mean;
      const effect = doc.encoderComparisons as { model: string; a: string; b: string; test: string; meanDifference: number; p: number; pAdjusted: number }[];
      expect(effect.map((c) => `${c.model}/${c.test}`).sort()).toEqual(['cr/paired-t', 'cr/wilcoxon', 'logreg/paired-t', 'logreg/wilcoxon']);
      for (const c of effect) {
        expect([c.a, c.b]).toEqual(keys);
        expect(c.meanDifference).toBeCloseTo(acc(c.model, keys[0]) - acc(c.model, keys[1]), 12);
        expect(c.pAdjusted).toBeGreaterThanOrEqual(c.p);
      }
      const table = out.table;
      for (const line of table.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
      expect(table).toMatch(/^\| model +\| encoder +\| +accuracy % \|/m);
      expect(table).toMatch(/^\| logreg +\| sst5-embeddings +\|/m);
      expect(table).toMatch(/^\| paper: ChainzRule head, frozen BERT +\| BERT +\|/m);
      expect(table).toContain('OOV: 50.00% of tokens in train, 50.00% in dev, 50.00% in test; texts with no known word: 0.');
      expect(unwrap(table)).toContain('Encoder effect: each head on glove:tiny vs on sst5-embeddings, accuracy points, paired by seed (same split); paired t, Holm over heads.');
      expect(table).toMatch(/^\| model +\| glove:tiny % \| sst5-embeddings % \| Δ glove:tiny − sst5-embeddings \| +p \(Holm\) \|$/m);
      expect(table).toContain('NOTE: GloVe (averaged word vectors, no word order) is not BERT.');
      expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('p, Wilcoxon (Holm)');

      // An encoder's units do not depend on the other encoders of the run: alone, the same numbers.
      const single = await runSst5Bench({ ...opts, encoder: `precomputed:${embeddings}`, out: path.join(root, 'single') });
      const byUnit = (units: { model: string; fold: number; accuracy: number; tau: number }[]) => units.map((u) => [u.model, u.fold, u.accuracy, u.tau]).sort((a, b) => String(a).localeCompare(String(b)));
      expect(byUnit(single.records as never)).toEqual(byUnit(doc.units.filter((u: { encoder: string }) => u.encoder === keys[1])));
      // ... and, run alone, it shows the other encoder's rows from the completed run beside it (same protocol and heads), marked †.
      const singleDoc = JSON.parse(readFileSync(path.join(single.dir, 'results.json'), 'utf8'));
      expect(singleDoc.earlierRuns.map((r: { encoder: string; dir: string }) => [r.encoder, r.dir])).toEqual([[keys[0], dir]]);
      expect(singleDoc.earlierRuns[0].models.map((m: { name: string; accuracy: { mean: number } }) => [m.name, m.accuracy.mean])).toEqual([
        ['cr', acc('cr', keys[0])],
        ['logreg', acc('logreg', keys[0])],
      ]);
      expect(singleDoc.models.map((m: { name: string }) => m.name)).toEqual(['cr', 'logreg']); // this run's own summaries only
      expect(single.table).toMatch(/^\| cr +\| sst5-embeddings +\|/m);
      expect(single.table).toMatch(/^\| logreg +\| glove:tiny† +\|/m);
      expect(unwrap(single.table)).toContain(`† glove:tiny: from the completed run ${dir} (`);
      expect(unwrap(single.table)).toContain(`not paired with this run (for a paired comparison: --encoder sst5-embeddings,glove:tiny).`);
      const quiet = await runSst5Bench({ ...opts, encoder: `precomputed:${embeddings}`, earlierRuns: false, out: path.join(root, 'quiet') });
      expect(quiet.table).not.toContain('†');

      // Resume a multi-encoder run: units are keyed by encoder too.
      writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ ...doc, status: 'running', units: doc.units.slice(0, 3) }));
      const resumed = await runSst5Bench({ ...opts, resume: dir });
      expect(resumed.computedUnits).toBe(5);
      const doc2 = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
      expect(doc2.units).toEqual(doc.units.map((u: object) => ({ ...u, trainSeconds: expect.any(Number) })));
      // the encoder list is part of the run's identity
      await expect(runSst5Bench({ ...opts, encoder: `precomputed:${embeddings},glove:${vectors}`, resume: dir })).rejects.toThrow(/different settings/);
    } finally {
      vi.unstubAllEnvs();
    }
  }, 120_000);

  it('--train-fraction, --max-train, --max-rows: a stratified, seeded subsample, labelled REDUCED SCALE', async () => {
    const root = tmp();
    const { trees, embeddings } = writeTinySst5(root, { train: 100, dev: 20, test: 30 });
    const base = { data: trees, encoder: `precomputed:${embeddings}`, cacheDir: path.join(root, 'cache'), seeds: 1, models: ['logreg'], modelOverrides: FAST, progress: 'none' as const, backend: tf.getBackend(), workers: 1 };
    const out = await runSst5Bench({ ...base, trainFraction: 0.5, maxRows: 10, out: path.join(root, 'a') });
    const doc = JSON.parse(readFileSync(path.join(out.dir, 'results.json'), 'utf8'));
    expect(doc.data.scale).toBe('reduced');
    expect(doc.data.rows).toEqual({ train: 50, dev: 10, test: 10 });
    expect(doc.data.fullRows).toEqual({ train: 100, dev: 20, test: 30 });
    expect(doc.protocol.reduced).toEqual({ trainFraction: 0.5, maxRows: 10, sampleSeed: 0 });
    expect(doc.units[0]).toMatchObject({ nTrain: 50, nTest: 10 });
    expect(doc.data.provenance.notes).toContain('reduced-scale: train 50 of 100 rows (trainFraction 0.5; stratified by label, sampleSeed 0, file order kept)');
    expect(unwrap(out.table)).toContain('REDUCED SCALE (quick run): 50 of 100 training sentences (--train-fraction 0.5), dev 10 of 20 and test 10 of 30 (--max-rows 10);');
    expect(out.table).toContain('Not the SST-5 figure');
    for (const line of out.table.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
    expect(readFileSync(path.join(out.dir, 'summary.md'), 'utf8')).toMatch(/Protocol: SST-5 standard split \(REDUCED SCALE: /);

    // --max-train with another --seed: another sample of that size; dev/test whole.
    const b = await runSst5Bench({ ...base, maxTrain: 7, seed: 3, out: path.join(root, 'b') });
    const docB = JSON.parse(readFileSync(path.join(b.dir, 'results.json'), 'utf8'));
    expect(docB.data.rows).toEqual({ train: 7, dev: 20, test: 30 });
    expect(docB.protocol.reduced).toEqual({ maxTrain: 7, sampleSeed: 3 });
    expect(unwrap(b.table)).toContain('REDUCED SCALE (quick run): 7 of 100 training sentences (--max-train 7); stratified by label, drawn with seed 3.');

    // A cap above the split's size changes nothing: full scale.
    const c = await runSst5Bench({ ...base, maxRows: 1000, out: path.join(root, 'c') });
    expect(JSON.parse(readFileSync(path.join(c.dir, 'results.json'), 'utf8')).data.scale).toBe('full');
  }, 60_000);
});

describe('chainz bench sst5 options', () => {
  it('bad options fail early with the option named', async () => {
    const root = tmp();
    const base = { progress: 'none' as const, backend: 'cpu', workers: 1, out: path.join(root, 'o') };
    await expect(runSst5Bench({ ...base, encoder: 'bert-large' })).rejects.toThrow(/option --encoder: unknown encoder 'bert-large'/);
    await expect(runSst5Bench({ ...base, encoder: 'use-lite', pooling: 'cls' })).rejects.toThrow(/--pooling/);
    await expect(runSst5Bench({ ...base, models: ['cr', 'svm'] })).rejects.toThrow(/option --models: unknown model\(s\) svm; choose from cr, cr-nodreg/);
    await expect(runSst5Bench({ ...base, seeds: 0 })).rejects.toThrow(/--seeds/);
    await expect(runSst5Bench({ ...base, lambda: -1 })).rejects.toThrow(/--lambda/);
    await expect(runSst5Bench({ ...base, resume: path.join(root, 'nothing') })).rejects.toThrow(/nothing to resume/);
    expect(existsSync(path.join(root, 'o'))).toBe(false);
    expect(parseEncoderSpec('transformers:../shared/data/bert/tiny-random-bert')).toEqual({ kind: 'transformers', model: '../shared/data/bert/tiny-random-bert' });
    expect(() => parseEncoderSpec('precomputed:')).toThrow(/--encoder/);
    expect(parseEncoderSpec('glove')).toEqual({ kind: 'glove' });
    expect(parseEncoderSpec('glove:vectors/glove.6B.100d.txt')).toEqual({ kind: 'glove', vectors: 'vectors/glove.6B.100d.txt' });
    expect(() => parseEncoderSpec('glove:')).toThrow(/option --encoder: unknown encoder 'glove:'; use 'use-lite', 'glove', 'glove:<word-vector file/);
    await expect(runSst5Bench({ ...base, encoder: 'glove', pooling: 'cls' })).rejects.toThrow(/option --pooling: the GloVe encoder averages word vectors/);
    await expect(runSst5Bench({ ...base, encoder: 'precomputed:x.jsonl,glove', pooling: 'cls' })).rejects.toThrow(/option --pooling: the GloVe encoder averages word vectors/);
    await expect(runSst5Bench({ ...base, encoder: 'glove,use-lite,glove' })).rejects.toThrow("option --encoder: encoder 'glove' is listed twice");
    await expect(runSst5Bench({ ...base, trainFraction: 0 })).rejects.toThrow('option --train-fraction: must be a share of the training sentences in (0, 1], e.g. 0.1, got 0');
    await expect(runSst5Bench({ ...base, trainFraction: 1.5 })).rejects.toThrow(/option --train-fraction: must be a number from 0 to 1, got 1.5/);
    await expect(runSst5Bench({ ...base, maxTrain: 0 })).rejects.toThrow(/option --max-train: must be an integer ≥ 1/);
    await expect(runSst5Bench({ ...base, maxRows: 2.5 })).rejects.toThrow(/option --max-rows/);
  });

  it('missing data: the hints name --data, not the adapter option `path`', async () => {
    const root = tmp();
    const base = { progress: 'none' as const, backend: 'cpu', workers: 1, out: path.join(root, 'o') };
    const inEmpty = await runSst5Bench({ ...base, data: root }).catch((e) => e);
    expect(inEmpty.hint).toMatch(/or pass the folder as --data$/);
    vi.stubEnv('CHAINZ_DATA_DIR', '');
    try {
      const none = await runSst5Bench(base).catch((e) => e);
      expect(none.message).toBe("option --data: no location for dataset 'sst5': set CHAINZ_DATA_DIR or pass --data");
    } finally {
      vi.unstubAllEnvs();
    }
    expect(existsSync(path.join(root, 'o'))).toBe(false);
  });

  it('a precomputed file missing a sentence is a DataError naming the file', async () => {
    const root = tmp();
    const { trees, embeddings } = writeTinySst5(root);
    const lines = readFileSync(embeddings, 'utf8').trim().split('\n');
    writeFileSync(embeddings, lines.slice(1).join('\n') + '\n');
    await expect(
      runSst5Bench({ data: trees, encoder: `precomputed:${embeddings}`, cacheDir: path.join(root, 'cache'), seeds: 1, models: ['logreg'], out: path.join(root, 'run'), progress: 'none', backend: 'cpu', workers: 1 }),
    ).rejects.toThrow(/sst5-embeddings\.jsonl/);
  });
});
