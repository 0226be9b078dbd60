import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ChainzError } from '@chainz/core';

/** Name of the lock file in a results folder. */
export const LOCK_FILE = '.chainz-lock.json';

/** Content of the lock file: who holds the folder. */
export interface LockHolder {
  /** Process id of the holder. */
  pid: number;
  /** Host name of the holder's machine (`os.hostname()`). */
  host: string;
  /** When the holder took the lock (ISO 8601, UTC). */
  startedAt: string;
  /** The holder's command line (for the message a second writer gets). */
  command: string;
  /** Experiment the holder runs. */
  experiment: string;
  /** Random id of this acquisition (tells one holder's lock from a later one's). */
  token: string;
}

/** A held folder lock. */
export interface FolderLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** @throws ChainzError `E_LOCKED` if the lock file no longer names this holder (released, or taken over). */
  check(): Promise<void>;
  /** Removes the lock file if it still names this holder. Idempotent. */
  release(): Promise<void>;
}

/** Locks this process holds: released synchronously when it exits. */
const held = new Map<string, LockHolder>();
let hooksInstalled = false;

function releaseAllSync(): void {
  for (const [file, holder] of held) {
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as LockHolder).token === holder.token) unlinkSync(file);
    } catch {
      // already gone or unreadable: nothing of ours to remove
    }
  }
  held.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Every way out of the process that runs JavaScript ends here: normal end,
  // process.exit (the CLI's error and Ctrl-C paths), an uncaught error.
  process.on('exit', releaseAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      // Another handler of this signal (the CLI's) decides what happens and ends the
      // process with process.exit, which releases the locks above. (Prepended, this
      // runs before any other listener, so a `once` listener still counts here.)
      if (process.listenerCount(signal) > 1) return;
      // Nobody else handles it: release, then end the process as the signal would have.
      releaseAllSync();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.prependListener(signal, onSignal);
  }
}

/** True if process `pid` runs on this host (signal 0 probes without sending anything). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(file: string): Promise<LockHolder | null | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return 'unreadable';
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.token === 'string' ? h : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on host ${h.host}, started ${h.startedAt}${h.command ? `: ${h.command}` : ''}`;
}

let tmpCounter = 0;

/**
 * Take the lock of a results folder (`<dir>/.chainz-lock.json`, written
 * whole through a temp file and an exclusive `link`, so it is never seen
 * half-written). A lock whose holder is this process (an earlier `ResultsDir`
 * of the same folder) is taken over; one whose holder no longer runs on this
 * host is stale and taken over too. Every lock this process holds is released
 * when it exits (also after SIGINT/SIGTERM/SIGHUP).
 *
 * @param dir the folder (must exist).
 * @param experiment recorded in the lock file.
 * @throws ChainzError `E_LOCKED` naming the holder (pid, host, start, command)
 *   when another live process — or a process on another host, which cannot be
 *   checked — holds the folder.
 */
export async function acquireFolderLock(dir: string, experiment: string): Promise<FolderLock> {
  const file = path.join(dir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: [path.basename(process.argv[1] ?? 'node'), ...process.argv.slice(2)].join(' '),
    experiment,
    token: randomUUID(),
  };
  const tmp = `${file}.tmp-${process.pid}-${++tmpCounter}`;
  await writeFile(tmp, JSON.stringify(me, null, 2) + '\n', { flag: 'wx' });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw e;
      }
      const holder = await readHolder(file);
      if (holder === null) continue; // released meanwhile: try again
      if (holder === 'unreadable') {
        throw new ChainzError('E_LOCKED', `the folder's lock file ${file} cannot be read; another chainz run may be writing here`, { file: dir }, `if no run uses this folder, delete ${file}`);
      }
      const mine = holder.host === me.host && holder.pid === process.pid;
      if (!mine && (holder.host !== me.host || isAlive(holder.pid))) {
        const where = holder.host === me.host ? 'that run still runs' : 'that host cannot be checked from here';
        throw new ChainzError(
          'E_LOCKED',
          `another chainz run writes to this folder (${describeHolder(holder)})`,
          { file: dir },
          `wait for it to finish, or write elsewhere (--out); ${where} — if it is gone for sure, delete ${file}`,
        );
      }
      // Stale (or our own earlier lock): move it aside, and make sure it was the lock we judged.
      const aside = `${file}.stale-${process.pid}-${++tmpCounter}`;
      try {
        await rename(file, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const moved = await readHolder(aside);
      if (moved !== null && moved !== 'unreadable' && moved.token !== holder.token) {
        // another process replaced the stale lock with its own meanwhile: put it back
        await link(aside, file).catch(() => undefined);
      }
      await unlink(aside).catch(() => undefined);
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  installExitHooks();
  held.set(file, me);
  let released = false;
  const check = async () => {
    const h = released ? null : await readHolder(file);
    if (h === null || h === 'unreadable' || h.token !== me.token) {
      throw new ChainzError(
        'E_LOCKED',
        released
          ? 'this results folder was closed; nothing more can be written through it'
          : `this process no longer holds the folder's lock (${h === null ? 'the lock file was removed' : h === 'unreadable' ? 'the lock file is unreadable' : `now held by ${describeHolder(h)}`}); not writing, so as not to overwrite another run's results`,
        { file: dir },
      );
    }
  };
  return {
    file,
    holder: me,
    check,
    async release() {
      if (released) return;
      released = true;
      if (held.get(file)?.token === me.token) held.delete(file);
      const h = await readHolder(file);
      if (h !== null && h !== 'unreadable' && h.token === me.token) await unlink(file).catch(() => undefined);
    },
  };
}
