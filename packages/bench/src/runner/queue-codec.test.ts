import { describe, expect, it } from 'vitest';
import { decodeFromQueue, encodeForQueue, typedArrayBase64Bytes } from './queue-codec';

/** Encode, go through JSON text as the queue does, decode. */
const roundTrip = (v: unknown) => decodeFromQueue(JSON.parse(JSON.stringify(encodeForQueue(v, 'v'))), 'v');

describe('queue wire format', () => {
  it('typed arrays come back bit for bit (every float32 pattern class, NaN payloads included), as their own aligned arrays', () => {
    const f = new Float32Array([0, -0, 1 / 3, -1e-45, 3.4028234e38, Infinity, -Infinity, NaN, 1.401298464324817e-45]);
    const nanBits = new Uint32Array(f.buffer);
    nanBits[7] = 0x7fc00123; // a NaN with a payload
    const i = Int32Array.from([0, -1, 2147483647, -2147483648, 42]);
    // a view into the middle of a larger buffer
    const big = new Uint8Array(64).map((_, k) => k);
    const view = new Int16Array(big.buffer, 6, 5);
    const out = roundTrip({ f, i, view, u8: big.subarray(3, 9), f64: Float64Array.of(Math.PI, -0, 5e-324) }) as Record<string, ArrayBufferView>;
    expect(out.f).toBeInstanceOf(Float32Array);
    expect(new Uint8Array(out.f.buffer)).toEqual(new Uint8Array(f.buffer));
    expect(out.i).toEqual(i);
    expect(out.view).toBeInstanceOf(Int16Array);
    expect(Array.from(out.view as Int16Array)).toEqual(Array.from(view));
    expect(out.view.byteOffset).toBe(0);
    expect(Array.from(out.u8 as Uint8Array)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(Object.is((out.f64 as Float64Array)[1], -0)).toBe(true);
    expect((out.f64 as Float64Array)[2]).toBe(5e-324);
  });

  it('typed arrays travel as base64 bytes, not as JSON number lists', () => {
    const x = new Float32Array(1000).map((_, k) => k / 7);
    const text = JSON.stringify(encodeForQueue({ x }));
    expect(text.length).toBeLessThan(4000 * 1.4 + 100); // 4000 bytes → 5336 base64 characters
    expect(text).toMatch(/"\$chainz":"typed","dtype":"float32","length":1000,"base64":"/);
  });

  it('NaN, ±Infinity, −0, undefined and a "$chainz" key in user data survive; plain numbers stay plain', () => {
    const v = { tau: NaN, a: Infinity, b: -Infinity, z: -0, u: undefined, list: [1, undefined, null, 0.1], $chainz: 'mine', nested: { $chainz: { deep: -0 } } };
    const enc = encodeForQueue(v) as { $chainz: string; value: Record<string, unknown> };
    expect(enc.$chainz).toBe('object'); // escaped: the object has a key of the format's own name
    expect(enc.value.list).toEqual([1, { $chainz: 'undefined' }, null, 0.1]);
    const out = roundTrip(v) as typeof v;
    expect(out.tau).toBeNaN();
    expect(out.a).toBe(Infinity);
    expect(out.b).toBe(-Infinity);
    expect(Object.is(out.z, -0)).toBe(true);
    expect('u' in out && out.u === undefined).toBe(true);
    expect(out.list).toEqual([1, undefined, null, 0.1]);
    expect(out.$chainz).toBe('mine');
    expect(Object.is((out.nested.$chainz as { deep: number }).deep, -0)).toBe(true);
  });

  it('the base64 size of the typed arrays is known before encoding (a lower bound of the job size)', () => {
    const v = [{ x: new Float32Array(1000), y: new Int32Array(7), z: [new Uint8Array(2)], n: 5 }];
    const text = JSON.stringify(encodeForQueue(v));
    const base64 = [...text.matchAll(/"base64":"([^"]*)"/g)].reduce((s, m) => s + m[1].length, 0);
    expect(typedArrayBase64Bytes(v)).toBe(base64);
    expect(base64).toBe(5336 + 40 + 4);
  });

  it('a key named __proto__ stays data', () => {
    const v = JSON.parse('{"__proto__": {"polluted": 1}}');
    const out = roundTrip(v) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(out)).toEqual(['__proto__']);
  });

  it('values the format cannot carry are refused, naming where they are', () => {
    expect(() => encodeForQueue({ a: [{ m: new Map() }] }, 'payloads')).toThrow(/^option --queue: payloads\.a\[0\]\.m: a Map cannot be sent over the queue/);
    expect(() => encodeForQueue({ n: 1n }, 'outputs')).toThrow(/outputs\.n: a bigint cannot be sent/);
    expect(() => encodeForQueue({ d: new DataView(new ArrayBuffer(4)) })).toThrow(/value\.d: a DataView cannot be sent over the queue \(typed arrays only\)/);
    expect(() => encodeForQueue({ f: () => 1 })).toThrow(/value\.f: a function cannot be sent/);
  });

  it('malformed tags are refused with their path', () => {
    expect(() => decodeFromQueue({ x: { $chainz: 'typed', dtype: 'float32', length: 3, base64: 'AAAA' } })).toThrow(/value\.x: malformed queue value \(3 bytes for 3 float32 values\)/);
    expect(() => decodeFromQueue([{ $chainz: 'typed', dtype: 'complex64', length: 0, base64: '' }], 'out')).toThrow(/out\[0\]: malformed queue value \(unknown dtype complex64\)/);
    expect(() => decodeFromQueue({ $chainz: 'number', value: 'NaNa' })).toThrow(/unknown number NaNa/);
    expect(() => decodeFromQueue({ $chainz: 'what' })).toThrow(/unknown tag what/);
  });
});
