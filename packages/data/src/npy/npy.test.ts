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

/** The preamble of a .npy file: magic, version, header length (uint16 for 1.x, uint32 otherwise). */
function preamble(major: number, minor: number, headerLen: number): Uint8Array {
  const long = major !== 1;
  const out = new Uint8Array(long ? 12 : 10);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, minor]);
  if (long) new DataView(out.buffer).setUint32(8, headerLen, true);
  else new DataView(out.buffer).setUint16(8, headerLen, true);
  return out;
}

/** A .npy file with the header text exactly as given (no padding added). */
function rawNpy(header: string, major = 1, minor = 0, data = new Uint8Array(12)): Uint8Array {
  const h = new TextEncoder().encode(header);
  const pre = preamble(major, minor, h.length);
  const out = new Uint8Array(pre.length + h.length + data.length);
  out.set(pre);
  out.set(h, pre.length);
  out.set(data, pre.length + h.length);
  return out;
}

describe('npy: header length and version checked against the file before reading', () => {
  // a 12-byte file announcing a 2 GiB (or 4 GiB) header once aborted Node natively / threw a raw RangeError
  const cases: [string, Uint8Array, RegExp][] = [
    ['version 4.0, length 0x80000000', preamble(4, 0, 0x80000000), /unsupported \.npy format version 4\.0 \(numpy writes and reads 1\.0, 2\.0 and 3\.0\)/],
    ['version 4.0, length 0xFFFFFFFF', preamble(4, 0, 0xffffffff), /unsupported \.npy format version 4\.0/],
    ['version 2.0, length 0xFFFFFFFF', preamble(2, 0, 0xffffffff), /header length 4294967295 exceeds the 10000-character limit/],
    ['version 3.0, length 0x80000000', preamble(3, 0, 0x80000000), /header length 2147483648 exceeds/],
    ['version 1.0, length 65535', preamble(1, 0, 65535), /header length 65535 exceeds the 10000-character limit/],
    ['version 1.0, length 9000 in a 10-byte file', preamble(1, 0, 9000), /truncated \.npy header: needs 9010 bytes, the file has 10/],
    ['version 2.0, length 9000 in a 12-byte file', preamble(2, 0, 9000), /truncated \.npy header: needs 9012 bytes, the file has 12/],
    ['version 1.1', rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", 1, 1), /unsupported \.npy format version 1\.1/],
    ['version 0.0', preamble(0, 0, 0), /unsupported \.npy format version 0\.0/],
    ['an 8-byte file', preamble(1, 0, 0).subarray(0, 8), /truncated \.npy header: 8 bytes|only 8 bytes/],
  ];
  for (const [what, bytes, msg] of cases) {
    it(`${what}: a DataError naming the file (readNpy, readNpyHeader, parseNpy)`, async () => {
      const f = write(`pre-${what.replace(/[^a-z0-9]+/gi, '_')}.npy`, bytes);
      for (const read of [() => readNpy(f), () => readNpyHeader(f)]) {
        const e = await read().catch((x: unknown) => x);
        expect(e).toBeInstanceOf(DataError);
        expect((e as Error).message).toMatch(msg);
        expect((e as Error).message.startsWith(`${f}: `)).toBe(true);
      }
      expect(() => parseNpy(bytes, 'mem.npy')).toThrow(DataError);
    });
  }
});

describe("npy: header rules as numpy's reader (outcomes checked against numpy 2.4.6's np.load)", () => {
  const ok = (shape: number[]) => ({ shape });
  // [name, header text, version, numpy's outcome: the shape it reads, or the error we expect]
  const table: [string, string, [number, number], { shape: number[] } | RegExp][] = [
    ['canonical', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", [1, 0], ok([3])],
    ['canonical v2', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", [2, 0], ok([3])],
    ['canonical v3', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", [3, 0], ok([3])],
    ['no final newline (numpy accepts)', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", [1, 0], ok([3])],
    ['trailing spaces, no newline', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }   ", [1, 0], ok([3])],
    ['trailing garbage', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }xyz\n", [1, 0], /malformed \.npy header \(unexpected text after the expression: "xyz\\n"/],
    ['garbage after the padding', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } \n junk", [1, 0], /unexpected text after the expression/],
    ['a NUL byte in the padding', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\u0000\n", [1, 0], /unexpected text after the expression/],
    ['duplicate descr: the last counts', "{'descr': '<i4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", [1, 0], ok([3])],
    ['an extra key', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}\n", [1, 0], /keys must be exactly 'descr', 'fortran_order', 'shape', found 'descr', 'fortran_order', 'shape', 'x'/],
    ['Python 2 long (v1)', "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }\n", [1, 0], ok([3])],
    ['Python 2 long (v2)', "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }\n", [2, 0], ok([3])],
    ['Python 2 long (v3: refused)', "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }\n", [3, 0], /malformed \.npy header/],
    ['double quotes', '{"descr": "<f4", "fortran_order": False, "shape": (3,), }\n', [1, 0], ok([3])],
    ['shape not a tuple', "{'descr': '<f4', 'fortran_order': False, 'shape': 3, }\n", [1, 0], /'shape' must be a tuple of integers/],
    ['(3) is not a tuple', "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }\n", [1, 0], /'shape' must be a tuple of integers/],
    ['shape a list', "{'descr': '<f4', 'fortran_order': False, 'shape': [3], }\n", [1, 0], /'shape' must be a tuple/],
    ['negative dimension', "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }\n", [1, 0], /negative dimension -3/],
    ['fortran_order 0', "{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }\n", [1, 0], /'fortran_order' must be True or False/],
    ['tabs and newlines', "{'descr':\t'<f4',\n 'fortran_order': False, 'shape': ( 3 , ) }\n", [1, 0], ok([3])],
    ['a comment', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } # c\n", [1, 0], ok([3])],
    ['CRLF', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\r\n", [1, 0], ok([3])],
    ['hex dimension', "{'descr': '<f4', 'fortran_order': False, 'shape': (0x3,), }\n", [1, 0], ok([3])],
    ['unary plus', "{'descr': '<f4', 'fortran_order': False, 'shape': (+3,), }\n", [1, 0], ok([3])],
    ['string concatenation', "{'descr': '<' 'f4', 'fortran_order': False, 'shape': (3,), }\n", [1, 0], ok([3])],
    ['parenthesised dict', "({'descr': '<f4', 'fortran_order': False, 'shape': (3,), })\n", [1, 0], ok([3])],
    ['leading newline', "\n{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", [1, 0], ok([3])],
    ["u'' string", "{'descr': u'<f4', 'fortran_order': False, 'shape': (3,), }\n", [1, 0], ok([3])],
    ["b'' descr", "{'descr': b'<f4', 'fortran_order': False, 'shape': (3,), }\n", [1, 0], /'descr' must be a dtype string, got a bytes/],
    ['escape in descr', "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (3,), }\n", [1, 0], ok([3])],
    ['leading zero', "{'descr': '<f4', 'fortran_order': False, 'shape': (03,), }\n", [1, 0], /leading zeros/],
    ['double comma', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,,), }\n", [1, 0], /malformed \.npy header/],
    ['scalar', "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", [1, 0], ok([])],
    ['not a dict', "[1, 2]\n", [1, 0], /not a dictionary/],
    ['unterminated', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,", [1, 0], /was never closed/],
  ];
  for (const [what, header, [major, minor], expected] of table) {
    it(`${what}: ${expected instanceof RegExp ? 'refused' : 'read'}`, () => {
      const bytes = rawNpy(header, major, minor);
      if (expected instanceof RegExp) {
        const e = (() => {
          try {
            parseNpyHeader(bytes, 'h.npy');
          } catch (x) {
            return x;
          }
        })();
        expect(e).toBeInstanceOf(DataError);
        expect((e as Error).message).toMatch(expected);
      } else {
        const h = parseNpyHeader(bytes, 'h.npy');
        expect(h.shape).toEqual(expected.shape);
        expect(h.dtype).toBe('float32');
      }
    });
  }
});
