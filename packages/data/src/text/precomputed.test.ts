import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, DataError } from '@chainz/core';
import { dump } from 'npyjs';
import { describe, expect, it } from 'vitest';
import { extractEmbeddings } from './extract';
import { createPrecomputedEncoder } from './precomputed';

const dir = mkdtempSync(path.join(tmpdir(), 'pre-'));
const put = (name: string, content: string | ArrayBuffer) => {
  const p = path.join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : Buffer.from(content));
  return p;
};
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const TEXTS = ['good film', 'bad film', 'café'];
const M = [
  [1, 2, 3],
  [4, 5, 6],
  [7, 8, 9],
];

describe('createPrecomputedEncoder', () => {
  it('reads a float32 .npy in row order and looks texts up by content', async () => {
    const file = put('m.npy', dump(Float32Array.from(M.flat()), [3, 3], { dtype: 'f4' }));
    const enc = await createPrecomputedEncoder(file, { texts: TEXTS });
    expect(enc.dimension).toBe(3);
    expect(enc.id).toMatch(/^precomputed:[0-9a-f]{16}$/);
    expect(Array.from(await enc.encode(['café', 'good film', 'café'], { pooling: 'mean' }))).toEqual([7, 8, 9, 1, 2, 3, 7, 8, 9]);
    const t = await extractEmbeddings(['bad film', 'good film'], { encoder: enc, cache: false });
    expect(t.arraySync()).toEqual([M[1], M[0]]);
    t.dispose();
    // Same matrix, other row texts → another id (cache keys must differ).
    const other = await createPrecomputedEncoder(file, { texts: [...TEXTS].reverse() });
    expect(other.id).not.toBe(enc.id);
  });

  it('converts a float64 .npy to float32', async () => {
    const file = put('m64.npy', dump(Float64Array.from([0.1, 0.2]), [1, 2], { dtype: 'f8' }));
    const enc = await createPrecomputedEncoder(file, { texts: ['x'] });
    expect(Array.from(await enc.encode(['x'], { pooling: 'mean' }))).toEqual([Math.fround(0.1), Math.fround(0.2)]);
  });

  it('reads keyed JSONL (text or sha256) and JSON records or matrices', async () => {
    const jsonl = put('k.jsonl', [`{"text":"good film","embedding":[1,2]}`, '', `{"sha256":"${sha('café')}","embedding":[3,4]}`].join('\n'));
    const e1 = await createPrecomputedEncoder(jsonl);
    expect(Array.from(await e1.encode(['café', 'good film'], { pooling: 'cls' }))).toEqual([3, 4, 1, 2]);
    const json = put('k.json', JSON.stringify([{ text: 'a', embedding: [0.5] }]));
    expect(Array.from(await (await createPrecomputedEncoder(json)).encode(['a'], { pooling: 'mean' }))).toEqual([0.5]);
    const mat = put('m.json', JSON.stringify(M));
    const e3 = await createPrecomputedEncoder(mat, { texts: TEXTS });
    expect(Array.from(await e3.encode(['bad film'], { pooling: 'mean' }))).toEqual([4, 5, 6]);
  });

  it('reports missing texts and malformed files with the file (and line)', async () => {
    const file = put('m2.npy', dump(Float32Array.from(M.flat()), [3, 3], { dtype: 'f4' }));
    const enc = await createPrecomputedEncoder(file, { texts: TEXTS });
    const miss = await enc.encode(['good film', 'unknown text'], { pooling: 'mean' }).catch((e) => e);
    expect(miss).toBeInstanceOf(DataError);
    expect(miss.message).toMatch(/no precomputed embedding for 1 of 2 texts \(first: "unknown text"\)/);
    expect(miss.location.file).toBe(file);

    await expect(createPrecomputedEncoder(file)).rejects.toThrow(ConfigError); // row order needs texts
    await expect(createPrecomputedEncoder(file, { texts: ['a'] })).rejects.toThrow(/texts has 1 entries but the file has 3 rows/);
    const bad = put('bad.jsonl', '{"text":"a","embedding":[1,2]}\n{"text":"b","embedding":[1]}\n');
    const e = await createPrecomputedEncoder(bad).catch((x) => x);
    expect(e).toBeInstanceOf(DataError);
    expect(e.location).toMatchObject({ file: bad, row: 2 });
    expect(e.message).toMatch(/embedding has 1 values, earlier ones 2/);
    const broken = put('broken.jsonl', '{"text":"a","embedding":[1]}\n{oops\n');
    expect(await createPrecomputedEncoder(broken).catch((x) => x.location)).toMatchObject({ row: 2 });
    const dup = put('dup.json', JSON.stringify([{ text: 'a', embedding: [1] }, { text: 'a', embedding: [2] }]));
    await expect(createPrecomputedEncoder(dup)).rejects.toThrow(/repeats the text of row 0 with a different vector/);
    await expect(createPrecomputedEncoder(put('x.csv', '1,2'))).rejects.toThrow(/unsupported precomputed embeddings format '.csv'/);
    const ints = put('i.npy', dump(Int32Array.from([1, 2]), [1, 2], { dtype: 'i4' }));
    await expect(createPrecomputedEncoder(ints, { texts: ['a'] })).rejects.toThrow(/expected float32 or float64 data, got dtype 'int32'/);
    const oneD = put('v.npy', dump(Float32Array.from([1, 2]), [2], { dtype: 'f4' }));
    await expect(createPrecomputedEncoder(oneD, { texts: ['a', 'b'] })).rejects.toThrow(/expected a 2-D \[N, d\] array/);
  });
});
