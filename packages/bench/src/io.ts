import writeFileAtomic from 'write-file-atomic';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ChainzError } from '@chainz/core';

/**
 * Write `data` to `file` atomically (temp file + fsync + rename, via
 * write-file-atomic): a crash leaves either the old file or the new one, never
 * a torn file. Parent directories are created.
 */
export async function writeFileAtomically(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, typeof data === "string" ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
}

/** JSON.stringify with 2-space indent and a trailing newline, written atomically. */
export async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await writeFileAtomically(file, JSON.stringify(value, null, 2) + '\n');
}

/** Read and parse a JSON file; a clear ChainzError (E_IO) names the file on failure. */
export async function readJson<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ChainzError('E_IO', `cannot read: ${(e as Error).message}`, { file });
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new ChainzError('E_IO', `not valid JSON (${(e as Error).message})`, { file });
  }
}
