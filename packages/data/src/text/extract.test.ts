import { mkdtempSync, readdirSync, readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, NumericError, ShapeError } from '@chainz/core';
import { describe, expect, it } from 'vitest';
import { defaultEmbeddingCacheDir, embeddingCacheFile, hashTexts, readEmbeddingCache, writeEmbeddingCache } from './cache';
import type { EncodeOptions, TextEncoder } from './encoder';
import { extractEmbeddings, type EmbeddingCacheEvent } from './extract';

/** A deterministic fake encoder: vector = f(text, pooling); counts calls. */
function fakeEncoder(d = 6, id = 'fake:v1'): TextEncoder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    id,
    dimension: d,
    description: 'fake',
    calls,
    async encode(texts: string[], opts: EncodeOptions) {
      calls.push(texts);
      const out = new Float32Array(texts.length * d);
      texts.forEach((t, i) => {
        for (let k = 0; k < d; k++) out[i * d + k] = t.length + k / 10 + (opts.pooling === 'cls' ? 100 : 0) + (t.charCodeAt(0) || 0) / 1000;
      });
      return out;
    },
  };
}

function expected(texts: string[], d = 6, pooling: 'cls' | 'mean' = 'mean'): number[][] {
  return texts.map((t) => Array.from({ length: d }, (_, k) => Math.fround(t.length + k / 10 + (pooling === 'cls' ? 100 : 0) + (t.charCodeAt(0) || 0) / 1000)));
}

const TEXTS = ['a much longer sentence here', 'short', '', 'medium length one', 'x', 'café ☃ unicode'];
const tmp = () => mkdtempSync(path.join(tmpdir(), 'emb-'));

describe('extractEmbeddings', () => {
  it('returns [N, d] rows in input order, batching length-sorted texts', async () => {
    const enc = fakeEncoder();
    const progress: [number, number][] = [];
    const before = tf.memory().numTensors;
    const t = await extractEmbeddings(TEXTS, { encoder: enc, batchSize: 4, cache: false, onProgress: (a, b) => progress.push([a, b]) });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(t.shape).toEqual([6, 6]);
    expect(t.dtype).toBe('float32');
    expect(t.arraySync()).toEqual(expected(TEXTS));
    t.dispose();
    expect(enc.calls.map((c) => c.length)).toEqual([4, 2]);
    expect(enc.calls[0]).toEqual(['', 'x', 'short', 'café ☃ unicode']);
    expect(progress).toEqual([
      [4, 6],
      [6, 6],
    ]);
    const unsorted = fakeEncoder();
    (await extractEmbeddings(TEXTS, { encoder: unsorted, batchSize: 4, cache: false, sortByLength: false })).dispose();
    expect(unsorted.calls[0]).toEqual(TEXTS.slice(0, 4));
  });

  it('caches on disk: the second run is a hit and calls no encoder', async () => {
    const dir = tmp();
    const events: EmbeddingCacheEvent[] = [];
    const enc = fakeEncoder();
    const a = await extractEmbeddings(TEXTS, { encoder: enc, cacheDir: dir, onCacheEvent: (e) => events.push(e) });
    expect(events.map((e) => e.type)).toEqual(['miss', 'write']);
    expect(readdirSync(dir)).toEqual([path.basename(events[0].file)]); // no temp files left
    const enc2 = fakeEncoder();
    const b = await extractEmbeddings(TEXTS, { encoder: enc2, cacheDir: dir, onCacheEvent: (e) => events.push(e) });
    expect(events[2].type).toBe('hit');
    expect(enc2.calls).toHaveLength(0);
    expect(b.arraySync()).toEqual(a.arraySync());
    tf.dispose([a, b]);
    // Another pooling, order, text set or encoder id is another key.
    for (const [texts, pooling, id] of [
      [TEXTS, 'cls', 'fake:v1'],
      [[...TEXTS].reverse(), 'mean', 'fake:v1'],
      [TEXTS.slice(1), 'mean', 'fake:v1'],
      [TEXTS, 'mean', 'fake:v2'],
    ] as const) {
      const e = fakeEncoder(6, id);
      const t = await extractEmbeddings([...texts], { encoder: e, pooling, cacheDir: dir, onCacheEvent: () => undefined });
      expect(e.calls.length).toBeGreaterThan(0);
      expect(t.arraySync()).toEqual(expected([...texts], 6, pooling));
      t.dispose();
    }
    expect(readdirSync(dir)).toHaveLength(5);
  });

  it('detects a truncated or corrupted cache file and rebuilds it', async () => {
    const dir = tmp();
    const file = await embeddingCacheFile(dir, 'fake:v1', 'mean', await hashTexts(TEXTS));
    (await extractEmbeddings(TEXTS, { encoder: fakeEncoder(), cacheDir: dir, onCacheEvent: () => undefined })).dispose();
    const good = readFileSync(file);

    const damage: [string, () => void, RegExp][] = [
      ['truncated', () => truncateSync(file, good.length - 5), /size .* expected/],
      ['bit flip in data', () => writeFileSync(file, Buffer.from(good).fill(0x41, good.length - 3, good.length - 2)), /checksum/],
      ['garbage', () => writeFileSync(file, 'not a cache file'), /bad magic/],
      ['header cut', () => writeFileSync(file, good.subarray(0, 20)), /truncated header/],
    ];
    for (const [, spoil, reason] of damage) {
      spoil();
      const events: EmbeddingCacheEvent[] = [];
      const enc = fakeEncoder();
      const t = await extractEmbeddings(TEXTS, { encoder: enc, cacheDir: dir, onCacheEvent: (e) => events.push(e) });
      expect(events[0].type).toBe('corrupt');
      expect(events[0].reason).toMatch(reason);
      expect(events[1].type).toBe('write');
      expect(enc.calls.length).toBeGreaterThan(0);
      expect(t.arraySync()).toEqual(expected(TEXTS));
      t.dispose();
      expect(readFileSync(file).equals(good)).toBe(true); // rebuilt byte-identical
    }
  });

  it('readEmbeddingCache checks the header against the expected key', async () => {
    const dir = tmp();
    const file = path.join(dir, 'x.emb');
    const key = { encoderId: 'e', pooling: 'mean' as const, n: 2, d: 3, textsSha256: 'abc' };
    await writeEmbeddingCache(file, key, Float32Array.from([1, 2, 3, 4, 5, 6]));
    const hit = await readEmbeddingCache(file, key);
    expect(hit.status).toBe('hit');
    expect(Array.from((hit as { data: Float32Array }).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await readEmbeddingCache(file, { ...key, encoderId: 'other' })).toMatchObject({ status: 'corrupt', reason: /encoderId mismatch/ });
    expect(await readEmbeddingCache(file, { ...key, d: 2, n: 3 })).toMatchObject({ status: 'corrupt', reason: /n mismatch/ });
    expect(await readEmbeddingCache(path.join(dir, 'none.emb'), key)).toEqual({ status: 'miss' });
    await expect(writeEmbeddingCache(file, key, new Float32Array(5))).rejects.toThrow(/expected n·d = 6/);
  });

  it('still returns the embeddings when the cache cannot be written', async () => {
    const dir = tmp();
    const blocker = path.join(dir, 'file');
    writeFileSync(blocker, 'x');
    const events: EmbeddingCacheEvent[] = [];
    const t = await extractEmbeddings(['a', 'b'], { encoder: fakeEncoder(), cacheDir: path.join(blocker, 'sub'), onCacheEvent: (e) => events.push(e) });
    expect(t.shape).toEqual([2, 6]);
    t.dispose();
    expect(events.map((e) => e.type)).toEqual(['miss', 'write-failed']);
  });

  it('uses CHAINZ_CACHE_DIR/embeddings by default', async () => {
    const root = tmp();
    const old = process.env.CHAINZ_CACHE_DIR;
    process.env.CHAINZ_CACHE_DIR = root;
    try {
      expect(await defaultEmbeddingCacheDir()).toBe(path.join(root, 'embeddings'));
      (await extractEmbeddings(['hello'], { encoder: fakeEncoder(), onCacheEvent: () => undefined })).dispose();
      expect(readdirSync(path.join(root, 'embeddings'))).toHaveLength(1);
    } finally {
      if (old === undefined) delete process.env.CHAINZ_CACHE_DIR;
      else process.env.CHAINZ_CACHE_DIR = old;
    }
  });

  it('validates options and encoder output', async () => {
    const enc = fakeEncoder();
    await expect(extractEmbeddings(['a'], { encoder: enc, batchSize: 0, cache: false })).rejects.toThrow(ConfigError);
    await expect(extractEmbeddings(['a'], { encoder: enc, pooling: 'max' as never, cache: false })).rejects.toThrow(/pooling must be one of cls, mean/);
    await expect(extractEmbeddings(['a', 3 as never], { encoder: enc, cache: false })).rejects.toThrow(/texts\[1\] is not a string/);
    const short: TextEncoder = { ...enc, encode: async (t) => new Float32Array(t.length * 5) };
    await expect(extractEmbeddings(['a'], { encoder: short, cache: false })).rejects.toThrow(ShapeError);
    const nan: TextEncoder = { ...enc, encode: async (t) => new Float32Array(t.length * 6).fill(NaN) };
    await expect(extractEmbeddings(['a'], { encoder: nan, cache: false })).rejects.toThrow(NumericError);
    const empty = await extractEmbeddings([], { encoder: enc });
    expect(empty.shape).toEqual([0, 6]);
    empty.dispose();
  });

  it('hashTexts is order-sensitive and unambiguous', async () => {
    expect(await hashTexts(['ab', 'c'])).not.toBe(await hashTexts(['a', 'bc']));
    expect(await hashTexts(['a', 'b'])).not.toBe(await hashTexts(['b', 'a']));
    expect(await hashTexts(['a'])).toBe(await hashTexts(['a']));
  });
});
