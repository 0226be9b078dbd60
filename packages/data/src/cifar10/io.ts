import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '@chainz/core';

/**
 * The root data directory: the `dataDir` option, else `CHAINZ_DATA_DIR`;
 * `undefined` when neither is set.
 */
export function dataRoot(dataDir?: string): string | undefined {
  const d = dataDir ?? process.env.CHAINZ_DATA_DIR;
  return d ? path.resolve(d) : undefined;
}

/** `'file'`, `'dir'` or `undefined` (missing). */
export async function pathKind(p: string): Promise<'file' | 'dir' | undefined> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** File size in bytes; throws a DataError naming the file if it cannot be read. */
export async function fileSizeOrThrow(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`, { file }, undefined, { cause: e });
  }
}

/** sha256 (hex) of a file, streamed (constant memory). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('error', (e) => reject(new DataError(`cannot read file for its checksum (${e.message})`, { file }, undefined, { cause: e })))
      .on('data', (chunk) => h.update(chunk))
      .on('end', () => resolve(h.digest('hex')));
  });
}
