import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ChainzError, IoError } from '@chainz/core';

/** Error code of a write that stored fewer bytes than asked without the system reporting an error. */
const SHORT_WRITE = 'ESHORTWRITE';

/** Suffix of this process's temp files: `<file>.tmp-<pid>-<n>` (see {@link isStaleTempFile}). */
let tempCounter = 0;

/** Writes in flight per target path: writes to one file run one after another, in call order. */
const queues = new Map<string, Promise<void>>();

/**
 * Write `data` to `file` atomically: the bytes go to a temp file beside it
 * (`<file>.tmp-<pid>-<n>`), every byte is confirmed written (a short write is
 * retried, a write that stores nothing is an error), the temp file is
 * fsync'ed, its size checked, and only then renamed over `file`. A crash, a
 * full disk or any other failure leaves the previous `file` (or none) in
 * place and removes the temp file; a torn or short file is never renamed into
 * place. Parent directories are created. Writes to the same path from one
 * process are serialised (the last call's data wins).
 *
 * Own code rather than `write-file-atomic` (7.0.1): that package ignores the
 * byte count of its single `write` call, so on a full disk it renames a short
 * temp file over the good one and reports success.
 *
 * @throws IoError naming the file and the system error code (`errno`:
 *   `ENOSPC`, `EDQUOT`, `EACCES`, `EROFS`, … or `ESHORTWRITE`).
 */
export async function writeFileAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const key = path.resolve(file);
  const previous = queues.get(key) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(() => writeNow(file, data));
  const tail = mine.catch(() => undefined);
  queues.set(key, tail);
  try {
    await mine;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

async function writeNow(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await makeFolder(dir);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const tmp = `${file}.tmp-${process.pid}-${++tempCounter}`;
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(tmp, 'wx');
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, done);
      if (!(bytesWritten > 0)) throw Object.assign(new Error(`only ${done} of ${bytes.length} bytes written`), { code: SHORT_WRITE });
      done += bytesWritten;
    }
    await fh.sync();
    const { size } = await fh.stat();
    if (size !== bytes.length) throw Object.assign(new Error(`the temp file holds ${size} of ${bytes.length} bytes`), { code: SHORT_WRITE });
    const h = fh;
    fh = undefined;
    await h.close();
    await rename(tmp, file);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw ioError(e, file, 'cannot write');
  }
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  EMFILE: 'too many open files',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  [SHORT_WRITE]: 'short write',
};

const HINTS: Record<string, string> = {
  ENOSPC: 'free some disk space (or write elsewhere) and run again; a results folder continues with --resume',
  EDQUOT: 'free some space within your quota (or write elsewhere) and run again',
  EACCES: 'choose a folder you can write to',
  EPERM: 'choose a folder you can write to',
  EROFS: 'choose a folder on a writable file system',
  ENOENT: 'choose a folder on a regular, writable file system',
};

function ioError(e: unknown, file: string, what: string): IoError {
  const code = (e as NodeJS.ErrnoException)?.code ?? 'EIO';
  const reason = REASONS[code] ?? ((e as Error)?.message ?? String(e)).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  const kept = what === 'cannot write' ? '; the previous version of the file, if any, is unchanged' : '';
  return new IoError(`${what} (${code}: ${reason})${kept}`, { file, errno: code }, HINTS[code], { cause: e });
}

/**
 * Create a folder and any missing parents, one level at a time from the
 * nearest existing one. (Node's `mkdir(…, { recursive: true })` retries
 * forever where a parent exists but refuses new entries with ENOENT, as
 * under /proc; here every refusal is an error.) A folder that exists already
 * (or is created meanwhile by another process) is fine.
 * @throws IoError naming the folder that could not be created, with the
 *   system's reason (ENOENT, EACCES, ENOTDIR, EROFS, ENOSPC…).
 */
export async function makeFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  let d = path.resolve(dir);
  for (;;) {
    try {
      const st = await stat(d);
      if (!st.isDirectory()) throw ioError(Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), d, 'cannot create a folder under it');
      break;
    } catch (e) {
      if (e instanceof IoError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw ioError(e, d, 'cannot create the folder');
      missing.push(d);
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  for (const m of missing.reverse()) {
    try {
      await mkdir(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw ioError(e, m, 'cannot create the folder');
    }
  }
}

/**
 * Create a new, empty folder `dir`, or `dir-2`, `dir-3`… when it exists
 * (another run took the name first); returns the folder created. The
 * creation is atomic, so two processes never get the same folder.
 * @throws IoError when the folder cannot be created.
 */
export async function reserveFolder(dir: string): Promise<string> {
  await makeFolder(path.dirname(dir));
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? dir : `${dir}-${i}`;
    try {
      await mkdir(candidate);
      return candidate;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 1000) throw ioError(e, candidate, 'cannot create the folder');
    }
  }
}

/** JSON.stringify with 2-space indent and a trailing newline, written atomically ({@link writeFileAtomically}). */
export async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await writeFileAtomically(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * True for a temp file that an interrupted atomic write left behind:
 * `<name>.tmp-<pid>-<n>` (this module) or `<name>.<ext>.<digits>` (the
 * `write-file-atomic` package used before), where `<name>.<ext>` is a file
 * name with an extension (`results.json.2964117025`, `summary.md.12`).
 */
export function isStaleTempFile(name: string): boolean {
  return /^.+\.tmp-\d+-\d+$/.test(name) || /^[^.].*\.[A-Za-z0-9]+\.\d+$/.test(name);
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
