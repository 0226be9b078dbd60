import { ChainzError, ConfigError, DataError, importNodeBuiltin } from '@chainz/core';
import { checkTextCsv } from './util';

/** A file's bytes, its absolute path and sha256. */
export interface DataFile {
  /** Absolute path of the file read. */
  path: string;
  bytes: Uint8Array;
  /** sha256 of the bytes, lower-case hex. */
  sha256: string;
}

/**
 * sha256 (lower-case hex) via Web Crypto — available in Node ≥ 20 and browsers.
 * @throws ChainzError `E_IO` when Web Crypto is missing (browsers offer it only in
 *   secure contexts: https or localhost).
 */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  if (globalThis.crypto?.subtle === undefined) {
    throw new ChainzError('E_IO', 'sha256 needs Web Crypto (crypto.subtle), missing here', {}, 'browsers offer it only in secure contexts: serve the page over https or from localhost');
  }
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Read a local data file (Node only: `node:fs` is imported on demand, out of
 * bundlers' sight, so the module itself stays browser-safe).
 *
 * @param file path, relative to the working directory or absolute.
 * @param what short description for messages, e.g. "Pima CSV".
 * @throws DataError naming the file if it is missing, a directory, unreadable or empty.
 * @throws ChainzError `E_IO` outside Node (in a browser, pass the file's text:
 *   `loadCsvDataset({ text })`).
 */
export async function readDataFile(file: string, what = 'data file'): Promise<DataFile> {
  const hint = "in a browser there are no files to read by path: pass the CSV's text (csv adapter option `text`)";
  const [{ readFile, stat }, { resolve }] = await Promise.all([
    importNodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises', `reading the ${what} ${file}`, hint),
    importNodeBuiltin<typeof import('node:path')>('node:path', `reading the ${what} ${file}`, hint),
  ]);
  const abs = resolve(file);
  let bytes: Uint8Array;
  try {
    const st = await stat(abs);
    if (st.isDirectory()) throw new DataError(`expected a ${what} but found a directory`, { file: abs });
    bytes = await readFile(abs);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new DataError(`${what} not found`, { file: abs }, 'check the path (relative paths start from the working directory)', { cause: e });
    }
    throw new DataError(`cannot read ${what}: ${(e as Error).message}`, { file: abs }, undefined, { cause: e });
  }
  if (bytes.length === 0) throw new DataError(`${what} is empty (0 bytes)`, { file: abs });
  return { path: abs, bytes, sha256: await sha256Hex(bytes) };
}

/** Decode UTF-8 bytes (a leading byte-order mark is dropped). */
export function decodeUtf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

/** CSV text from a file or from memory, with where it came from (see {@link readCsvSource}). */
export interface CsvSource {
  text: string;
  /** Absolute path of the file, or `inline` for text given in memory. */
  file: string;
  /** sha256 of the bytes (of the UTF-8 text for `inline`). */
  sha256: string;
}

/**
 * The CSV an adapter reads: `text` when given (file `inline`), else the file
 * at `path`, decoded as UTF-8.
 *
 * @param options `text`, or `path`.
 * @param missing the message of the ConfigError when neither is given.
 * @throws ConfigError (option `path`) when neither `text` nor a non-empty `path` is given.
 * @throws DataError naming the file when it cannot be read, or when it is
 *   not CSV text (gzip or zip bytes, UTF-16, a NUL byte in its first 8 KB).
 */
export async function readCsvSource(options: { path?: string; text?: string }, missing: string): Promise<CsvSource> {
  if (options.text !== undefined) return { text: options.text, file: 'inline', sha256: await sha256Hex(options.text) };
  if (options.path === undefined || options.path === '') throw new ConfigError(missing, { option: 'path' });
  const f = await readDataFile(options.path, 'CSV file');
  checkTextCsv(f.bytes, f.path);
  return { text: decodeUtf8(f.bytes), file: f.path, sha256: f.sha256 };
}
