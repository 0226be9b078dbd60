/**
 * The wire format of unit tasks and outputs on a job queue (format version 1).
 *
 * A job's data and return value are stored by the queue as JSON text, which
 * cannot carry typed arrays, NaN, ±Infinity, −0 or `undefined`. This codec
 * maps such values to tagged JSON objects and back, exactly:
 *
 * | value                         | encoded as                                                              |
 * | ----------------------------- | ----------------------------------------------------------------------- |
 * | `Float32Array`, `Int32Array`… | `{ "$chainz": "typed", "dtype": "float32", "length": n, "base64": "…" }` |
 * | NaN, ±Infinity, −0            | `{ "$chainz": "number", "value": "NaN" \| "Infinity" \| "-Infinity" \| "-0" }` |
 * | `undefined`                   | `{ "$chainz": "undefined" }`                                            |
 * | an object with a `$chainz` key | `{ "$chainz": "object", "value": { … } }`                              |
 *
 * Typed arrays are their bytes in little-endian order, base64 (4/3 of the
 * raw size; a `number[]` in JSON would take 2–3 times more and round float32
 * values through decimal text). Everything else is plain JSON: strings,
 * booleans, null, finite numbers (exact: JSON keeps 17 significant digits),
 * arrays and plain objects. Other values (class instances, Maps, Dates,
 * bigints, functions) are refused with an error naming where they are.
 */
import { endianness } from 'node:os';
import { ConfigError } from '@chainz/core';

/** Version of this wire format; a job in another format is refused. */
export const QUEUE_WIRE_FORMAT = 1 as const;

const TAG = '$chainz';

type TypedArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint8ClampedArray | Uint16Array | Uint32Array;

const TYPED: Record<string, { new (buffer: ArrayBuffer, byteOffset?: number, length?: number): TypedArray; BYTES_PER_ELEMENT: number }> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint8clamped: Uint8ClampedArray,
  uint16: Uint16Array,
  uint32: Uint32Array,
};
const DTYPE = new Map<Function, string>(Object.entries(TYPED).map(([k, c]) => [c, k]));

function checkEndianness(): void {
  if (endianness() !== 'LE') throw new ConfigError('queue payloads are little-endian typed-array bytes; this machine is big-endian', { option: '--queue' });
}

/**
 * Encode a value (a unit task's payloads, a model's outputs) as JSON-safe data.
 * @param where name of the value in error messages (e.g. `payloads`).
 * @throws ConfigError (option `--queue`) naming the path of a value the format cannot carry (e.g. `payloads[0].info: a Map`).
 */
export function encodeForQueue(value: unknown, where = 'value'): unknown {
  checkEndianness();
  return enc(value, where);
}

function enc(v: unknown, where: string): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (Number.isFinite(v) && !Object.is(v, -0)) return v;
      return { [TAG]: 'number', value: Object.is(v, -0) ? '-0' : String(v) };
    case 'undefined':
      return { [TAG]: 'undefined' };
    case 'object': {
      if (v === null) return null;
      if (ArrayBuffer.isView(v)) {
        const dtype = DTYPE.get(v.constructor);
        if (!dtype) throw new ConfigError(`${where}: a ${v.constructor.name} cannot be sent over the queue (typed arrays only)`, { option: '--queue' });
        const a = v as TypedArray;
        return { [TAG]: 'typed', dtype, length: a.length, base64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') };
      }
      if (Array.isArray(v)) return v.map((x, i) => enc(x, `${where}[${i}]`));
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new ConfigError(`${where}: a ${(v as object).constructor?.name ?? 'non-plain object'} cannot be sent over the queue (plain objects, arrays, typed arrays, numbers, strings only)`, { option: '--queue' });
      }
      // fromEntries defines own properties (a key named __proto__ stays data).
      const out = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, enc(x, `${where}.${k}`)]));
      return Object.hasOwn(v, TAG) ? { [TAG]: 'object', value: out } : out;
    }
    default:
      throw new ConfigError(`${where}: a ${typeof v} cannot be sent over the queue`, { option: '--queue' });
  }
}

/**
 * Bytes of base64 text the typed arrays in `value` take once encoded: a lower
 * bound of the encoded size, computed without encoding (to refuse huge
 * payloads before building their text).
 */
export function typedArrayBase64Bytes(value: unknown, seen = new Set<object>()): number {
  if (value === null || typeof value !== 'object' || seen.has(value)) return 0;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return Math.ceil(value.byteLength / 3) * 4;
  let n = 0;
  for (const x of Array.isArray(value) ? value : Object.values(value)) n += typedArrayBase64Bytes(x, seen);
  return n;
}

/**
 * Decode what {@link encodeForQueue} produced (after a JSON round trip).
 * Typed arrays get their own, aligned buffers.
 * @throws ConfigError (option `--queue`) for a malformed tag, naming its path.
 */
export function decodeFromQueue(value: unknown, where = 'value'): unknown {
  checkEndianness();
  return dec(value, where);
}

function dec(v: unknown, where: string): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x, i) => dec(x, `${where}[${i}]`));
  const o = v as Record<string, unknown>;
  if (!Object.hasOwn(o, TAG)) {
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, dec(x, `${where}.${k}`)]));
  }
  const bad = (why: string) => new ConfigError(`${where}: malformed queue value (${why})`, { option: '--queue' });
  switch (o[TAG]) {
    case 'typed': {
      const C = typeof o.dtype === 'string' ? TYPED[o.dtype] : undefined;
      if (!C) throw bad(`unknown dtype ${String(o.dtype)}`);
      if (typeof o.base64 !== 'string' || !Number.isInteger(o.length) || (o.length as number) < 0) throw bad('typed array without base64 bytes and length');
      const bytes = Buffer.from(o.base64, 'base64');
      if (bytes.length !== (o.length as number) * C.BYTES_PER_ELEMENT) throw bad(`${bytes.length} bytes for ${String(o.length)} ${o.dtype} values`);
      const buf = new ArrayBuffer(bytes.length);
      new Uint8Array(buf).set(bytes);
      return new C(buf, 0, o.length as number);
    }
    case 'number': {
      const map: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
      if (typeof o.value !== 'string' || !Object.hasOwn(map, o.value)) throw bad(`unknown number ${String(o.value)}`);
      return map[o.value];
    }
    case 'undefined':
      return undefined;
    case 'object': {
      if (o.value === null || typeof o.value !== 'object' || Array.isArray(o.value)) throw bad('escaped object without value');
      return Object.fromEntries(Object.entries(o.value as Record<string, unknown>).map(([k, x]) => [k, dec(x, `${where}.${k}`)]));
    }
    default:
      throw bad(`unknown tag ${String(o[TAG])}`);
  }
}
