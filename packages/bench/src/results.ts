import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ChainzError, ConfigError } from '@chainz/core';
import { isStaleTempFile, makeFolder, readJson, writeFileAtomically, writeJsonAtomically } from './io';
import { acquireFolderLock, LOCK_FILE, type FolderLock } from './lock';

/** One (model, repeat, fold) evaluation. */
export interface UnitResult {
  model: string;
  repeat: number;
  fold: number;
  /** Test accuracy in [0, 1]. */
  accuracy: number;
  tau: number | null;
  trainSeconds: number;
  nTrain: number;
  nTest: number;
  info?: Record<string, number | string>;
}

/** Identity of a run, checked on `--resume` so a run is only continued with the same settings. */
export interface RunIdentity {
  experiment: string;
  /** JSON of everything that determines the numbers (protocol, data checksum, model configs). */
  fingerprint: string;
}

/** One command that computed units of a run (each `--resume` that does work adds one). */
export interface RunSession {
  /** When the command started (ISO 8601, UTC); null for time recorded before sessions were kept. */
  startedAt: string | null;
  /** Wall time of the command up to its last flush, seconds (loading, embedding and training included). */
  wallSeconds: number;
  /** Units computed in this session. */
  units: number;
}

/** Wall time of a run, over all its sessions (stored in results.json `environment`). */
export interface RunTime {
  /** Total over the sessions, seconds. */
  wallSeconds: number;
  sessions: RunSession[];
}

/** Options of {@link ResultsDir.create} and {@link ResultsDir.resume}. */
export interface ResultsDirOptions {
  /** `performance.now()` when the command started (its wall time counts from here); default: now. */
  startedAt?: number;
  /**
   * Fields that, with `model`, identify a unit (its key for resume and its
   * sort order in results.json); default `['repeat', 'fold']`.
   */
  keyFields?: string[];
}

/** `12.3 s`, or `42.0 s over 2 sessions (20.1 + 21.9 s)` for a resumed run. */
export function formatWallTime(time: RunTime): string {
  const total = `${time.wallSeconds.toFixed(1)} s`;
  if (time.sessions.length <= 1) return total;
  return `${total} over ${time.sessions.length} sessions (${time.sessions.map((s) => s.wallSeconds.toFixed(1)).join(' + ')} s)`;
}

/**
 * A results directory: per-unit results kept in memory and flushed atomically
 * (results.json and summary.md rewritten through temp file + rename after
 * every unit), so a crash loses at most the unit in flight and `--resume DIR`
 * continues where it stopped. It also keeps the run's wall time across
 * sessions: earlier sessions are read back on resume and this one is added
 * once it has computed a unit (a `--resume` with nothing left to do changes
 * nothing).
 *
 * One writer per folder: {@link ResultsDir.create} and
 * {@link ResultsDir.resume} take the folder's lock file `.chainz-lock.json`
 * (holder pid, host, start time, command) and refuse a folder another live
 * process holds; a lock left by a process that no longer runs on this host
 * (`kill -9`, power loss) is taken over. The lock is released by
 * {@link ResultsDir.close}, and in any case when the process exits (normal
 * exit, an error that ends it, `process.exit` after Ctrl-C). Opening the
 * folder also removes the temp files an interrupted write left there.
 */
export class ResultsDir {
  private units = new Map<string, UnitResult>();
  private previous: RunSession[] = [];
  /** The `status` of the results.json a resumed folder held (`running`, `complete`), if any. */
  previousStatus: string | undefined;
  private added = 0;
  private readonly started: number;
  private readonly startedAt: string;
  private readonly keyFields: string[];

  private constructor(readonly dir: string, readonly identity: RunIdentity, options: ResultsDirOptions, private readonly lock: FolderLock) {
    lastOpened = dir;
    this.keyFields = options.keyFields ?? ['repeat', 'fold'];
    this.started = options.startedAt ?? performance.now();
    this.startedAt = new Date(Date.now() - (performance.now() - this.started)).toISOString();
  }

  /**
   * Start a new directory (created now, with its lock file); refuses to
   * overwrite one holding results.
   * @throws ConfigError (option `--out`) if the path is a file, lies under a
   *   file, or its nearest existing folder is not writable — checked before
   *   anything is created.
   * @throws ChainzError `E_RESUME` if the folder already holds results.json;
   *   `E_LOCKED` naming the holder (pid, host, start) if another process writes to it.
   */
  static async create(dir: string, identity: RunIdentity, options: ResultsDirOptions = {}): Promise<ResultsDir> {
    checkWritableDir(dir);
    if (existsSync(path.join(dir, 'results.json'))) {
      throw new ChainzError('E_RESUME', 'this directory already holds results; use --resume to continue it or choose another --out', { file: dir });
    }
    await makeFolder(dir);
    const lock = await acquireFolderLock(dir, identity.experiment);
    try {
      // a run that started after the check above could have written since
      if (existsSync(path.join(dir, 'results.json'))) {
        throw new ChainzError('E_RESUME', 'this directory already holds results; use --resume to continue it or choose another --out', { file: dir });
      }
      await removeStaleTempFiles(dir);
    } catch (e) {
      await lock.release();
      throw e;
    }
    return new ResultsDir(dir, identity, options, lock);
  }

  /**
   * Re-open a directory written by an earlier (possibly crashed) run with the
   * same settings. A folder that holds no results.json but only what an
   * interrupted first write left (temp files, a stale lock) is continued from
   * scratch: no unit had finished.
   * @throws ChainzError `E_RESUME` (nothing to resume, another experiment,
   *   other settings), `E_LOCKED` naming the holder if another process writes to it.
   */
  static async resume(dir: string, identity: RunIdentity, options: ResultsDirOptions = {}): Promise<ResultsDir> {
    const file = path.join(dir, 'results.json');
    if (!isDir(dir)) throw new ChainzError('E_RESUME', 'nothing to resume: no results.json here', { file: dir });
    // the lock first: a run still writing its first results is "locked", not "nothing to resume"
    const lock = await acquireFolderLock(dir, identity.experiment);
    try {
      if (!existsSync(file) && !(await onlyLeftovers(dir))) throw new ChainzError('E_RESUME', 'nothing to resume: no results.json here', { file: dir });
      await removeStaleTempFiles(dir);
      const r = new ResultsDir(dir, identity, options, lock);
      if (!existsSync(file)) return r;
      const prev = await readJson<{ status?: unknown; experiment?: string; fingerprint?: string; units?: UnitResult[]; environment?: { wallSeconds?: unknown; sessions?: unknown } }>(file);
      if (prev.experiment !== identity.experiment) {
        throw new ChainzError('E_RESUME', `holds experiment '${prev.experiment}', not '${identity.experiment}'`, { file });
      }
      if (prev.fingerprint !== identity.fingerprint) {
        throw new ChainzError(
          'E_RESUME',
          'was written with different settings (protocol, data or model configuration); resuming would mix results',
          { file },
          'rerun with the same options as the original run, or start a new run without --resume',
        );
      }
      for (const u of prev.units ?? []) r.units.set(r.key(u), u);
      r.previousStatus = typeof prev.status === 'string' ? prev.status : undefined;
      const env = prev.environment ?? {};
      if (Array.isArray(env.sessions)) r.previous = env.sessions as RunSession[];
      else if (typeof env.wallSeconds === 'number') r.previous = [{ startedAt: null, wallSeconds: env.wallSeconds, units: r.units.size }];
      return r;
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  /**
   * Release the folder's lock (idempotent). Results already flushed stay; a
   * later {@link ResultsDir.flush} of this object throws. Also happens when
   * the process exits.
   */
  async close(): Promise<void> {
    await this.lock.release();
  }

  /** True if the unit (model and key fields, e.g. `{ model, repeat, fold }`) has a result; or `has(model, repeat, fold)`. */
  has(unit: { model: string } | string, repeat?: number, fold?: number): boolean {
    return this.units.has(this.key(typeof unit === 'string' ? ({ model: unit, repeat, fold } as { model: string }) : unit));
  }

  /** Every unit's record (typed as the caller's record type; default {@link UnitResult}). */
  all<T extends { model: string } = UnitResult>(): T[] {
    return [...this.units.values()] as unknown as T[];
  }

  get size(): number {
    return this.units.size;
  }

  add(u: UnitResult | { model: string; [field: string]: unknown }): void {
    this.units.set(this.key(u), u as UnitResult);
    this.added++;
  }

  /** Wall time so far: the earlier sessions plus this one if it has computed a unit. */
  time(): RunTime {
    const sessions = [...this.previous];
    if (this.added > 0) sessions.push({ startedAt: this.startedAt, wallSeconds: (performance.now() - this.started) / 1000, units: this.added });
    return { wallSeconds: sessions.reduce((s, x) => s + x.wallSeconds, 0), sessions };
  }

  /**
   * Write results.json (the given document plus identity, units, and
   * `environment.wallSeconds` / `environment.sessions` from {@link time}) and
   * summary.md atomically.
   * @param summaryMarkdown the summary, or a function of the run time recorded in this flush.
   * @returns the run time recorded.
   * @throws IoError (E_IO, naming the file and errno, e.g. ENOSPC) if a write
   *   fails — the files of the last successful flush stay as they were;
   *   ChainzError `E_LOCKED` if this object no longer holds the folder's lock
   *   (closed, or the lock was taken by another process).
   */
  async flush(doc: Record<string, unknown>, summaryMarkdown: string | ((time: RunTime) => string)): Promise<RunTime> {
    await this.lock.check();
    const time = this.time();
    await writeJsonAtomically(path.join(this.dir, 'results.json'), {
      ...doc,
      environment: { ...(doc.environment as Record<string, unknown> | undefined), wallSeconds: time.wallSeconds, sessions: time.sessions },
      experiment: this.identity.experiment,
      fingerprint: this.identity.fingerprint,
      units: this.all().sort((a, b) => a.model.localeCompare(b.model) || this.compareKeys(a, b)),
    });
    await writeFileAtomically(path.join(this.dir, 'summary.md'), typeof summaryMarkdown === 'function' ? summaryMarkdown(time) : summaryMarkdown);
    return time;
  }

  private key(u: { model: string }): string {
    return [u.model, ...this.keyFields.map((f) => String((u as Record<string, unknown>)[f]))].join('\u0000');
  }

  private compareKeys(a: object, b: object): number {
    for (const f of this.keyFields) {
      const x = (a as Record<string, unknown>)[f], y = (b as Record<string, unknown>)[f];
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      if (c !== 0) return c;
    }
    return 0;
  }
}

/** Removes the temp files of interrupted atomic writes (`results.json.123…`, `summary.md.tmp-…`) in `dir`. */
async function removeStaleTempFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter(isStaleTempFile);
  await Promise.all(names.map((n) => unlink(path.join(dir, n)).catch(() => undefined)));
  return names;
}

/** True if `dir` holds only what an interrupted run leaves (temp files), besides the lock file just taken. */
async function onlyLeftovers(dir: string): Promise<boolean> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n !== LOCK_FILE);
  return names.length > 0 && names.every(isStaleTempFile);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** `results/<experiment>/<timestamp>` under `base` (timestamp in UTC, filesystem-safe). */
export function defaultResultsDir(base: string, experiment: string, now = new Date()): string {
  const ts = now.toISOString().replace(/[:]/g, '-').replace(/\..+$/, 'Z');
  return path.join(base, 'results', experiment, ts);
}

/** Fails early, with the path named, where a results folder could not be created or written. */
export function checkWritableDir(dir: string, option = '--out'): void {
  let p = path.resolve(dir);
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch {
      const parent = path.dirname(p);
      if (parent === p) return;
      p = parent;
      continue;
    }
    if (!st.isDirectory()) {
      throw new ConfigError(p === path.resolve(dir) ? `'${dir}' is a file, not a folder` : `'${dir}' lies under '${p}', which is a file`, { option }, 'choose a folder path');
    }
    try {
      accessSync(p, fsConstants.W_OK);
    } catch {
      throw new ConfigError(`cannot write under '${p}' (permission denied)`, { option }, 'choose a folder you can write to');
    }
    return;
  }
}

let lastOpened: string | undefined;

/** The folder of the results directory this process opened last (for an interrupt message), if any. */
export function lastResultsDir(): string | undefined {
  return lastOpened;
}
