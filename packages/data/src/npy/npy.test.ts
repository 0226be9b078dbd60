import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, ConfigError } from '@chainz/core';
import { parseNpy, parseNpyHeader, readNpy, readNpyHeader } from './npy';
import { testDataDir } from '../cifar10/test-data';
import { npyBytes } from './test-npy';

const tmp = mkdtempSync(path.join(tmpdir(), 'npy-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const p = path.join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

describe('npy header parser', () => {
  it('parses a float32 header and its data (version 1 and 2)', async () => {
    const vals = new Float32Array([1.5, -2, 3.25, 4, 5, 6]);
    for (const major of [1, 2]) {
      const bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", new Uint8Array(vals.buffer), major);
      const h = parseNpyHeader(bytes);
      expect(h).toMatchObject({ dtype: 'float32', shape: [3, 2], itemSize: 4, rowBytes: 8, size: 6, version: [major, 0] });
      expect(h.dataOffset % 64).toBe(0);
      const a = parseNpy(bytes);
      expect(Array.from(a.data as Float32Array)).toEqual(Array.from(vals));
      const f = write(`v${major}.npy`, bytes);
      const r = await readNpy(f, { rowStart: 1, rowCount: 2 });
      expect(r.shape).toEqual([2, 2]);
      expect(Array.from(r.data as Float32Array)).toEqual([3.25, 4, 5, 6]);
    }
  });

  it('parses 1-d, scalar and int64 arrays', async () => {
    const one = npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", new Uint8Array([9, 8, 7, 6]));
    expect(parseNpyHeader(one).shape).toEqual([4]);
    const r = await readNpy(write('one.npy', one), { rowStart: 2 });
    expect(Array.from(r.data as Uint8Array)).toEqual([7, 6]);
    const sc = npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", new Uint8Array(new Float64Array([Math.PI]).buffer));
    expect(Array.from(parseNpy(sc).data as Float64Array)).toEqual([Math.PI]);
    const i8 = npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(new BigInt64Array([-3n, 5n]).buffer));
    expect(Array.from(parseNpy(i8).data as BigInt64Array)).toEqual([-3n, 5n]);
  });

  const bad: [string, string, RegExp][] = [
    ['big-endian', "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", /big-endian dtype '>f4'/],
    ['fortran order', "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", /fortran_order: True is not supported/],
    ['complex', "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", /unsupported dtype '<c8'/],
    ['float16', "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", /unsupported dtype '<f2'/],
    ['object', "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", /unsupported dtype '\|O'/],
    ['structured', "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", /structured \(record\) dtypes/],
    ['no shape', "{'descr': '<f4', 'fortran_order': False, }", /no 'shape'/],
  ];
  for (const [what, dict, msg] of bad) {
    it(`rejects ${what} with a DataError naming the file`, async () => {
      const f = write(`${what.replace(/ /g, '_')}.npy`, npyBytes(dict, new Uint8Array(8)));
      const err = await readNpy(f).catch((e) => e);
      expect(err).toBeInstanceOf(DataError);
      expect(err.message).toMatch(msg);
      expect(err.message).toContain(f);
    });
  }

  it('rejects a missing magic, a truncated file, a missing file and a bad row range', async () => {
    const notNpy = write('not.npy', new TextEncoder().encode('hello world, not numpy'));
    await expect(readNpy(notNpy)).rejects.toThrow(/missing the \\x93NUMPY magic/);
    const full = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (10, 3), }", new Uint8Array(120));
    const trunc = write('trunc.npy', full.subarray(0, full.length - 5));
    const e = await readNpy(trunc).catch((x) => x);
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(/truncated \.npy file.*\(10, 3\).*file has/);
    await expect(readNpy(path.join(tmp, 'nope.npy'))).rejects.toThrow(/nope\.npy: file not found/);
    const ok = write('ok.npy', full);
    const r = await readNpy(ok, { rowStart: 8, rowCount: 5 }).catch((x) => x);
    expect(r).toBeInstanceOf(ConfigError);
    expect(r.message).toMatch(/rowCount must be an integer in \[0, 2\]/);
  });
});

describe('npy on the golden CIFAR-10-C files', () => {
  const dir = path.join(testDataDir('cifar10c/golden-first100'), 'cifar10c/golden-first100');

  it('reads the uint8 [500,32,32,3] header and a row range equal to the same rows of the whole file', async () => {
    const f = path.join(dir, 'contrast.npy');
    const h = await readNpyHeader(f);
    expect(h).toMatchObject({ dtype: 'uint8', descr: '|u1', shape: [500, 32, 32, 3], rowBytes: 3072 });
    const part = await readNpy(f, { rowStart: 200, rowCount: 100 });
    expect(part.shape).toEqual([100, 32, 32, 3]);
    const whole = parseNpy(new Uint8Array(readFileSync(f)), f);
    expect(Buffer.from(part.data as Uint8Array).equals(Buffer.from((whole.data as Uint8Array).subarray(200 * 3072, 300 * 3072)))).toBe(true);
    const labels = await readNpy(path.join(dir, 'labels.npy'));
    expect(labels.shape).toEqual([500]);
    expect(Array.from((labels.data as Uint8Array).subarray(0, 10))).toEqual([3, 8, 8, 0, 6, 6, 1, 6, 3, 1]);
  });
});
