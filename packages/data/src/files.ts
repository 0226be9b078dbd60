import { DataError } from '@chainz/core';
import type { BaseLoadOptions } from './adapter';
import { nodeApi } from './text/node';
import { resolveDataPath } from './location';

/**
 * Where an adapter reads from: the explicit `path` option if given, else
 * `<dataDir ?? CHAINZ_DATA_DIR>/<dataset>` (see {@link resolveDataPath}).
 * @returns `{ path, explicit }` — `explicit` is true when it came from `options.path`.
 * @throws DataError (option `path`) when neither `path`, `dataDir` nor
 *   `CHAINZ_DATA_DIR` is set; `hint` says how to get the data.
 * @internal
 */
export async function resolveDatasetLocation(
  options: BaseLoadOptions,
  dataset: string,
  hint: string,
): Promise<{ path: string; explicit: boolean }> {
  const r = await resolveDataPath(options, dataset, { adapter: dataset, hint });
  return { path: r.path, explicit: r.explicit };
}

/**
 * The root data directory: the `dataDir` option, else `CHAINZ_DATA_DIR`,
 * resolved to an absolute path; `undefined` when neither is set.
 * @internal
 */
export async function dataRoot(dataDir?: string): Promise<string | undefined> {
  const d = dataDir ?? process.env.CHAINZ_DATA_DIR;
  if (!d) return undefined;
  const { path } = await nodeApi();
  return path.resolve(d);
}

/** File size in bytes. @throws DataError naming the file if it is missing or unreadable. @internal */
export async function fileSizeOrThrow(file: string): Promise<number> {
  const { fsp } = await nodeApi();
  try {
    return (await fsp.stat(file)).size;
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new DataError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`, { file }, undefined, { cause: e });
  }
}

/** `'file'`, `'dir'` or `null` when nothing exists at `p`. @internal */
export async function pathKind(p: string): Promise<'file' | 'dir' | null> {
  const { fsp } = await nodeApi();
  try {
    const st = await fsp.stat(p);
    return st.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

/**
 * sha256 (lower-case hex) of a file, streamed (works for multi-GB files).
 * @throws DataError naming the file if it cannot be read.
 * @internal
 */
export async function sha256File(file: string): Promise<string> {
  const { fs, crypto } = await nodeApi();
  const hash = crypto.createHash('sha256');
  try {
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  } catch (e) {
    throw new DataError(`cannot read file: ${(e as Error).message}`, { file }, undefined, { cause: e });
  }
  return hash.digest('hex');
}

/**
 * Read a whole UTF-8 text file (a leading byte-order mark is dropped).
 * @throws DataError naming the file if it is missing or unreadable.
 * @internal
 */
export async function readTextFile(file: string, what: string, hint?: string): Promise<string> {
  const { fsp } = await nodeApi();
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new DataError(
      code === 'ENOENT' ? `${what} not found` : `cannot read ${what}: ${(e as Error).message}`,
      { file },
      hint,
      { cause: e },
    );
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Write `parts` (concatenated) to `file` atomically: to a temporary file in
 * the same folder (every byte written — `write` may write less than asked —
 * and fsync'ed), then `rename` over the target, so readers see the old file
 * or the new one, never half of one. Creates the folder if needed.
 * @throws the file-system error (ENOSPC, EACCES, …); the temporary file is removed.
 * @internal
 */
export async function writeFileAtomic(file: string, parts: readonly Uint8Array[]): Promise<void> {
  const { fsp, path, crypto } = await nodeApi();
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await fsp.open(tmp, 'w');
    try {
      let pos = 0;
      for (const part of parts) {
        for (let off = 0; off < part.length; ) {
          const { bytesWritten } = await fh.write(part, off, part.length - off, pos);
          if (bytesWritten <= 0) throw new Error(`short write to ${tmp}`);
          off += bytesWritten;
          pos += bytesWritten;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}
