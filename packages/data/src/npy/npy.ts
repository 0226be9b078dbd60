import { open } from 'node:fs/promises';
import { ConfigError, DataError } from '@chainz/core';
import { parsePyLiteral, PyLiteralError, type PyValue } from './py-literal';

/**
 * Reader for numpy's `.npy` format (versions 1.0, 2.0, 3.0; header rules as
 * numpy's own reader, see {@link parseNpyHeader}), with positioned
 * reads so that a row range of a large file can be loaded without reading the
 * rest. Format: the magic `\x93NUMPY`, a major and minor version byte, a
 * little-endian header length (uint16 for 1.x, uint32 for 2.x/3.x), then a
 * Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (N, …), }`
 * padded with spaces and a newline, then the C-order data.
 *
 * Supported: little-endian (or byte-order-free) bool, int8/16/32/64,
 * uint8/16/32/64, float32/64, in C order. Rejected with a {@link DataError}:
 * big-endian byte orders, `fortran_order: True`, structured, object, string,
 * float16 and complex dtypes.
 */

/** Element types this reader returns. */
export type NpyDtype =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';

/** Typed array for each {@link NpyDtype} (bool is read as 0/1 bytes). */
export type NpyTypedArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** Parsed `.npy` header. */
export interface NpyHeader {
  /** Format version, e.g. `[1, 0]`. */
  version: [number, number];
  /** The `descr` string as written, e.g. `|u1` or `<f4`. */
  descr: string;
  dtype: NpyDtype;
  /** Bytes per element. */
  itemSize: number;
  /** Array shape (empty for a scalar). */
  shape: number[];
  /** Byte offset of the first data byte. */
  dataOffset: number;
  /** Bytes per row along axis 0 (`itemSize × prod(shape[1:])`); itemSize for a scalar or 1-D array. */
  rowBytes: number;
  /** Total number of elements. */
  size: number;
}

/** A loaded array (or row range of one). */
export interface NpyArray {
  header: NpyHeader;
  /** Shape of `data` (axis 0 is the number of rows read). */
  shape: number[];
  data: NpyTypedArray;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DTYPES: Record<string, { dtype: NpyDtype; size: number }> = {
  b1: { dtype: 'bool', size: 1 },
  i1: { dtype: 'int8', size: 1 },
  u1: { dtype: 'uint8', size: 1 },
  i2: { dtype: 'int16', size: 2 },
  u2: { dtype: 'uint16', size: 2 },
  i4: { dtype: 'int32', size: 4 },
  u4: { dtype: 'uint32', size: 4 },
  i8: { dtype: 'int64', size: 8 },
  u8: { dtype: 'uint64', size: 8 },
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
};

/** Bytes needed to hold the fixed preamble and the header-length field. */
const PREAMBLE = 12;

/**
 * Longest header text read, in characters: numpy's own limit
 * (`numpy.lib.format._MAX_HEADER_SIZE`), above which `np.load` refuses a file
 * unless told to trust it. Headers of the dtypes read here are < 200 characters.
 */
export const NPY_MAX_HEADER_CHARS = 10_000;

/** The format versions numpy reads and writes. */
const VERSIONS = ['1.0', '2.0', '3.0'];

/**
 * Check the preamble (magic, version) and return the header's length and
 * start. Every version other than 1.0, 2.0 and 3.0 is refused (as numpy does),
 * and so is a header longer than {@link NPY_MAX_HEADER_CHARS} (in bytes: ×4
 * for UTF-8 version 3.0) or than the `available` bytes — before anything of
 * that length is allocated.
 */
function checkPreamble(pre: Uint8Array, available: number, file: string): { major: number; minor: number; headerLen: number; start: number } {
  for (let i = 0; i < MAGIC.length; i++) {
    if (pre[i] !== MAGIC[i]) throw new DataError('not a .npy file (missing the \\x93NUMPY magic string)', { file });
  }
  if (pre.length < 10) throw new DataError(`truncated .npy header: ${pre.length} bytes`, { file });
  const major = pre[6];
  const minor = pre[7];
  if (!VERSIONS.includes(`${major}.${minor}`)) {
    throw new DataError(`unsupported .npy format version ${major}.${minor} (numpy writes and reads 1.0, 2.0 and 3.0)`, { file });
  }
  const start = major === 1 ? 10 : 12;
  if (pre.length < start) throw new DataError(`truncated .npy header: ${pre.length} bytes`, { file });
  const headerLen = major === 1 ? pre[8] | (pre[9] << 8) : (pre[8] | (pre[9] << 8) | (pre[10] << 16)) + pre[11] * 2 ** 24;
  const maxBytes = NPY_MAX_HEADER_CHARS * (major === 3 ? 4 : 1);
  if (headerLen > maxBytes) {
    throw new DataError(`.npy header length ${headerLen} exceeds the ${NPY_MAX_HEADER_CHARS}-character limit numpy loads (a corrupt file, or not an array this reader supports)`, { file });
  }
  if (start + headerLen > available) {
    throw new DataError(`truncated .npy header: needs ${start + headerLen} bytes, the file has ${available}`, { file });
  }
  return { major, minor, headerLen, start };
}

type Dict = Map<string, PyValue>;

/** The header dict with numpy's checks: exactly the keys descr, fortran_order, shape (a repeated key: the last one counts, as in Python). */
function headerDict(text: string, major: number, file: string): Dict {
  let v: PyValue;
  try {
    v = parsePyLiteral(text, major <= 2);
  } catch (e) {
    if (!(e instanceof PyLiteralError)) throw e;
    throw new DataError(`malformed .npy header (${e.message} at character ${e.at + 1}): ${JSON.stringify(text.trim().slice(0, 200))}`, { file });
  }
  if (v.t !== 'dict') throw new DataError(`malformed .npy header (not a dictionary): ${JSON.stringify(text.trim().slice(0, 200))}`, { file });
  const d: Dict = new Map();
  const other: string[] = [];
  for (const [k, val] of v.entries) {
    if (k.t === 'str') d.set(k.v, val);
    else other.push(`<${k.t}>`);
  }
  const keys = [...d.keys(), ...other].sort();
  if (keys.join() !== 'descr,fortran_order,shape') {
    const missing = ['descr', 'fortran_order', 'shape'].filter((k) => !d.has(k));
    throw new DataError(
      `malformed .npy header: the keys must be exactly 'descr', 'fortran_order', 'shape', found ${keys.map((k) => `'${k}'`).join(', ') || 'none'}${missing.length ? ` (no ${missing.map((k) => `'${k}'`).join(', ')})` : ''}`,
      { file },
    );
  }
  return d;
}

/**
 * Parse the header of a `.npy` file from its first bytes, with numpy's rules:
 * versions 1.0, 2.0 and 3.0 only; the header is one Python literal dict
 * (anything after it but whitespace is an error; a missing final newline is
 * accepted, as numpy does) with exactly the keys `descr`, `fortran_order`
 * (a bool) and `shape` (a tuple of non-negative ints); a repeated key counts
 * with its last value; Python 2's `3L` integers are read in versions 1.0/2.0.
 *
 * @param bytes the start of the file; at least the whole header (for version 1
 *   files, at most 10 + 65535 bytes are needed).
 * @param file file name used in error messages.
 * @returns the parsed header.
 * @throws DataError if the bytes are not a `.npy` header numpy would read, or
 *   the dtype, byte order or memory order is unsupported.
 */
export function parseNpyHeader(bytes: Uint8Array, file = '<buffer>'): NpyHeader {
  const { major, minor, headerLen, start } = checkPreamble(bytes, bytes.length, file);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(bytes.subarray(start, start + headerLen));
  } catch {
    throw new DataError('malformed .npy header: not valid UTF-8 (format version 3.0)', { file });
  }
  if (text.length > NPY_MAX_HEADER_CHARS) {
    throw new DataError(`.npy header of ${text.length} characters exceeds the ${NPY_MAX_HEADER_CHARS}-character limit numpy loads`, { file });
  }
  const d = headerDict(text, major, file);

  const descrV = d.get('descr')!;
  if (descrV.t === 'list') throw new DataError('structured (record) dtypes are not supported', { file });
  if (descrV.t === 'tuple') throw new DataError('sub-array dtypes are not supported', { file });
  if (descrV.t !== 'str') throw new DataError(`malformed .npy header: 'descr' must be a dtype string, got a ${descrV.t}`, { file });
  const fortranV = d.get('fortran_order')!;
  if (fortranV.t !== 'bool') throw new DataError(`malformed .npy header: 'fortran_order' must be True or False, got a ${fortranV.t}`, { file });
  const shapeV = d.get('shape')!;
  if (shapeV.t !== 'tuple' || shapeV.items.some((x) => x.t !== 'int')) {
    throw new DataError(`malformed .npy header: 'shape' must be a tuple of integers, e.g. (3, 2) or (3,)`, { file });
  }

  const descr = descrV.v;
  const order = descr[0];
  const code = descr.slice(1);
  const dt = Object.hasOwn(DTYPES, code) ? DTYPES[code] : undefined;
  if (!dt || !['<', '>', '|', '='].includes(order)) {
    throw new DataError(
      `unsupported dtype '${descr}' (supported: b1, i1, u1, i2, u2, i4, u4, i8, u8, f4, f8, little-endian)`,
      { file },
    );
  }
  if (order === '>' && dt.size > 1) {
    throw new DataError(`big-endian dtype '${descr}' is not supported; re-save the array little-endian (arr.astype('<${code}'))`, { file });
  }
  if (order === '=' && dt.size > 1) {
    throw new DataError(`native byte order '${descr}' is ambiguous in a file; expected '<${code}'`, { file });
  }
  if (fortranV.v) {
    throw new DataError("fortran_order: True is not supported; re-save the array in C order (np.ascontiguousarray)", { file });
  }
  const shape: number[] = [];
  for (const x of shapeV.items) {
    const dim = (x as { v: bigint }).v;
    if (dim < 0n) throw new DataError(`malformed .npy header: negative dimension ${dim} in 'shape'`, { file });
    if (dim > BigInt(Number.MAX_SAFE_INTEGER)) throw new DataError(`array too large: dimension ${dim} in 'shape'`, { file });
    shape.push(Number(dim));
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(size * dt.size)) throw new DataError(`array too large: shape (${shape.join(', ')}) of '${descr}'`, { file });
  const rowElems = shape.length <= 1 ? 1 : shape.slice(1).reduce((a, b) => a * b, 1);
  return {
    version: [major, minor],
    descr,
    dtype: dt.dtype,
    itemSize: dt.size,
    shape,
    dataOffset: start + headerLen,
    rowBytes: rowElems * dt.size,
    size,
  };
}

/**
 * Read only the header of a `.npy` file (at most 64 KiB for version 1 files).
 *
 * @throws DataError naming the file if it cannot be read or is not a supported `.npy`.
 */
export async function readNpyHeader(file: string): Promise<NpyHeader> {
  const fh = await openOrThrow(file);
  try {
    return await readHeaderFrom(fh, file);
  } finally {
    await fh.close();
  }
}

/** Options of {@link readNpy}. */
export interface ReadNpyOptions {
  /** First row (along axis 0) to read; default 0. */
  rowStart?: number;
  /** Number of rows to read; default all rows from `rowStart`. */
  rowCount?: number;
}

/**
 * Read a `.npy` file, or a row range of it along axis 0, with positioned reads:
 * only the header and the requested rows are read from disk.
 *
 * @param file path of the `.npy` file.
 * @param options row range (`rowStart`, `rowCount`); default the whole array.
 * @returns the header, the shape of the rows read (`[rowCount, …shape[1:]]`)
 *   and the data as a typed array (C order, little-endian).
 * @throws DataError if the file is missing, truncated or of an unsupported
 *   dtype/order; ConfigError if the row range lies outside the array.
 */
export async function readNpy(file: string, options: ReadNpyOptions = {}): Promise<NpyArray> {
  const fh = await openOrThrow(file);
  try {
    const header = await readHeaderFrom(fh, file);
    const { size: fileSize } = await fh.stat();
    const expected = header.dataOffset + header.size * header.itemSize;
    if (fileSize < expected) {
      throw new DataError(
        `truncated .npy file: header announces shape (${header.shape.join(', ')}) of ${header.descr} = ${expected} bytes, file has ${fileSize}`,
        { file },
      );
    }
    let shape: number[];
    let byteStart: number;
    let byteLen: number;
    if (header.shape.length === 0) {
      if (options.rowStart !== undefined || options.rowCount !== undefined) {
        throw new ConfigError('a row range was requested from a 0-d (scalar) array', { file, option: 'rowStart' });
      }
      shape = [];
      byteStart = header.dataOffset;
      byteLen = header.itemSize;
    } else {
      const rows = header.shape[0];
      const rowStart = options.rowStart ?? 0;
      const rowCount = options.rowCount ?? rows - rowStart;
      if (!Number.isInteger(rowStart) || rowStart < 0 || rowStart > rows) {
        throw new ConfigError(`rowStart must be an integer in [0, ${rows}], got ${rowStart}`, { file, option: 'rowStart' });
      }
      if (!Number.isInteger(rowCount) || rowCount < 0 || rowStart + rowCount > rows) {
        throw new ConfigError(`rowCount must be an integer in [0, ${rows - rowStart}] for rowStart ${rowStart}, got ${rowCount}`, {
          file,
          option: 'rowCount',
        });
      }
      shape = [rowCount, ...header.shape.slice(1)];
      byteStart = header.dataOffset + rowStart * header.rowBytes;
      byteLen = rowCount * header.rowBytes;
    }
    const buf = new Uint8Array(byteLen);
    let done = 0;
    while (done < byteLen) {
      const { bytesRead } = await fh.read(buf, done, byteLen - done, byteStart + done);
      if (bytesRead === 0) throw new DataError(`unexpected end of file at byte ${byteStart + done}`, { file });
      done += bytesRead;
    }
    return { header, shape, data: view(buf, header.dtype) };
  } finally {
    await fh.close();
  }
}

/**
 * Parse a whole `.npy` file held in memory.
 *
 * @param bytes the file's bytes.
 * @param file name used in error messages.
 * @throws DataError as {@link readNpy}.
 */
export function parseNpy(bytes: Uint8Array, file = '<buffer>'): NpyArray {
  const header = parseNpyHeader(bytes, file);
  const len = header.size * header.itemSize;
  if (bytes.length < header.dataOffset + len) {
    throw new DataError(
      `truncated .npy data: header announces ${len} bytes of data, buffer has ${bytes.length - header.dataOffset}`,
      { file },
    );
  }
  // Copy so the typed array is aligned and independent of the input buffer.
  const data = bytes.slice(header.dataOffset, header.dataOffset + len);
  return { header, shape: [...header.shape], data: view(data, header.dtype) };
}

function view(buf: Uint8Array, dtype: NpyDtype): NpyTypedArray {
  const b = buf.buffer as ArrayBuffer;
  const o = buf.byteOffset;
  switch (dtype) {
    case 'bool':
    case 'uint8':
      return buf;
    case 'int8':
      return new Int8Array(b, o, buf.length);
    case 'int16':
      return new Int16Array(b, o, buf.length / 2);
    case 'uint16':
      return new Uint16Array(b, o, buf.length / 2);
    case 'int32':
      return new Int32Array(b, o, buf.length / 4);
    case 'uint32':
      return new Uint32Array(b, o, buf.length / 4);
    case 'int64':
      return new BigInt64Array(b, o, buf.length / 8);
    case 'uint64':
      return new BigUint64Array(b, o, buf.length / 8);
    case 'float32':
      return new Float32Array(b, o, buf.length / 4);
    case 'float64':
      return new Float64Array(b, o, buf.length / 8);
  }
}

type FileHandle = Awaited<ReturnType<typeof open>>;

async function openOrThrow(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'file not found' : `cannot open file (${code ?? String(e)})`, { file }, undefined, {
      cause: e,
    });
  }
}

async function readHeaderFrom(fh: FileHandle, file: string): Promise<NpyHeader> {
  const { size: fileSize } = await fh.stat();
  const pre = new Uint8Array(PREAMBLE);
  const { bytesRead } = await fh.read(pre, 0, PREAMBLE, 0);
  if (bytesRead < MAGIC.length) throw new DataError(`not a .npy file (only ${bytesRead} bytes)`, { file });
  // magic, version and header length checked against the file size before the header is read
  const { headerLen, start } = checkPreamble(pre.subarray(0, bytesRead), fileSize, file);
  const bytes = new Uint8Array(start + headerLen);
  let done = 0;
  while (done < bytes.length) {
    const r = await fh.read(bytes, done, bytes.length - done, done);
    if (r.bytesRead === 0) break;
    done += r.bytesRead;
  }
  return parseNpyHeader(bytes.subarray(0, done), file);
}
