import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { corrupt } from '../corruptions/corrupt';
import { readCifar10Binary } from '../cifar10/cifar10';
import { cacheFileName, loadCifarCorruptionData, readCachedSet } from './corrupted-sets';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.CHAINZ_DATA_DIR ? path.resolve(process.env.CHAINZ_DATA_DIR) : path.resolve(here, '../../../../../shared/data');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-cifar10c-sets-'));

describe('loadCifarCorruptionData: generated-set cache', () => {
  it('caches by key, verifies the payload, and regenerates a damaged file', async () => {
    const cacheDir = tmp();
    const opts = { dataDir, trainSize: 10, testSize: 12, corruptions: ['fog'], severities: [4 as const], corruptionSeed: 7, cacheDir, shared: false };
    const a = await loadCifarCorruptionData(opts);
    expect(a.generation).toMatchObject({ generated: 1, fromCache: 0 });
    const { images } = await readCifar10Binary(path.join(dataDir, 'cifar10', 'test_first1000.bin'), { limit: 12 });
    expect(Array.from(a.sets[0].images)).toEqual(Array.from(await corrupt(images, 12, 'fog', 4, { seed: 7, frostDir: path.join(dataDir, 'cifar10c', 'frost') })));
    const [file] = readdirSync(cacheDir);
    expect(file).toMatch(/^fog-s4-[0-9a-f]{20}\.bin$/);
    const b = await loadCifarCorruptionData(opts);
    expect(b.generation).toMatchObject({ generated: 0, fromCache: 1 });
    expect(Array.from(b.sets[0].images)).toEqual(Array.from(a.sets[0].images));
    // flip one payload byte: the sha256 check rejects it and the set is regenerated (and rewritten)
    const bytes = readFileSync(path.join(cacheDir, file));
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(path.join(cacheDir, file), bytes);
    const messages: string[] = [];
    const c = await loadCifarCorruptionData({ ...opts, log: (m) => messages.push(m) });
    expect(messages.join('\n')).toMatch(/sha256 mismatch/);
    expect(c.generation).toMatchObject({ generated: 1, fromCache: 0 });
    expect(Array.from(c.sets[0].images)).toEqual(Array.from(a.sets[0].images));
    // another seed is another key (another file)
    await loadCifarCorruptionData({ ...opts, corruptionSeed: 8 });
    expect(readdirSync(cacheDir)).toHaveLength(2);
    expect(await readCachedSet(path.join(cacheDir, 'absent.bin'), JSON.parse('{}'))).toBeNull();
    expect(cacheFileName({ format: 1, generator: 'g', source: 's', n: 1, corruption: 'fog', severity: 1, seed: 0 })).toMatch(/^fog-s1-/);
  }, 60_000);
});

