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
import { writeTinySst5 } from '../common/text.fixtures';
import { parseEncoderSpec } from '../common/text-embeddings';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-sst5-'));

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
