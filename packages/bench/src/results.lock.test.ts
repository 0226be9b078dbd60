import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ChainzError } from '@chainz/core';
import { ResultsDir } from './results';
import { LOCK_FILE } from './lock';

const id = { experiment: 'pima', fingerprint: 'f' };
const unit = (fold: number) => ({ model: 'cr', repeat: 0, fold, accuracy: 0.5, tau: null, trainSeconds: 0.1, nTrain: 9, nTest: 1 });
const tmp = () => path.join(mkdtempSync(path.join(tmpdir(), 'chainz-lock-')), 'run');
const lockOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8'));
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ChainzError);

function writeLock(dir: string, holder: { pid: number; host?: string }) {
  mkdirSync(dir, { recursive: true });
  const h = { host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'cli.js bench pima', experiment: 'pima', token: 'other', ...holder };
  writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(h));
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('ResultsDir folder lock (in-process)', () => {
  it('takes the lock on create, releases it on close; a closed folder refuses to flush', async () => {
    const dir = tmp();
    const r = await ResultsDir.create(dir, id);
    expect(lockOf(dir)).toMatchObject({ pid: process.pid, host: hostname(), experiment: 'pima' });
    r.add(unit(0));
    await r.flush({}, '');
    await r.close();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    const e = await errorOf(r.flush({}, ''));
    expect(e?.code).toBe('E_LOCKED');
    expect(e?.message).toMatch(/was closed/);
    await r.close(); // idempotent
  });

  it('refuses a folder held by another live process, naming pid, host and start', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    children.push(holder);
    const dir = tmp();
    writeLock(dir, { pid: holder.pid! });
    for (const open of [() => ResultsDir.create(dir, id), () => ResultsDir.resume(dir, id)]) {
      const e = await errorOf(open());
      expect(e).toBeInstanceOf(ChainzError);
      expect(e!.code).toBe('E_LOCKED');
      expect(e!.message).toBe(`${dir}: another chainz run writes to this folder (pid ${holder.pid} on host ${hostname()}, started 2026-01-01T00:00:00.000Z: cli.js bench pima)`);
      expect(e!.hint).toMatch(/that run still runs/);
    }
    expect(lockOf(dir).pid).toBe(holder.pid); // untouched
  });

  it('refuses a lock from another host (cannot be checked), and says how to clear it', async () => {
    const dir = tmp();
    writeLock(dir, { pid: 1, host: 'elsewhere.example' });
    const e = await errorOf(ResultsDir.create(dir, id));
    expect(e?.code).toBe('E_LOCKED');
    expect(e?.message).toMatch(/pid 1 on host elsewhere\.example/);
    expect(e?.hint).toBe(`wait for it to finish, or write elsewhere (--out); that host cannot be checked from here — if it is gone for sure, delete ${path.join(dir, LOCK_FILE)}`);
  });

  it('takes over a stale lock (holder no longer runs on this host)', async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    const dir = tmp();
    writeLock(dir, { pid: gone });
    const r = await ResultsDir.create(dir, id);
    expect(lockOf(dir).pid).toBe(process.pid);
    await r.close();
  });

  it('a later open by the same process takes over; the earlier object can no longer write', async () => {
    const dir = tmp();
    const a = await ResultsDir.create(dir, id);
    a.add(unit(0));
    await a.flush({}, '');
    const b = await ResultsDir.resume(dir, id);
    expect(b.size).toBe(1);
    const e = await errorOf(a.flush({}, ''));
    expect(e?.code).toBe('E_LOCKED');
    expect(e?.message).toMatch(/no longer holds the folder's lock/);
    await a.close(); // does not remove b's lock
    expect(lockOf(dir).pid).toBe(process.pid);
    await b.close();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });
});

describe('ResultsDir leftovers of a kill -9', () => {
  it('removes the temp files of interrupted writes on resume', async () => {
    const dir = tmp();
    const r = await ResultsDir.create(dir, id);
    r.add(unit(0));
    await r.flush({}, '# s\n');
    await r.close();
    for (const f of ['results.json.2964117025', 'summary.md.17', 'results.json.tmp-99-3', 'heatmap.svg.5']) writeFileSync(path.join(dir, f), '');
    const again = await ResultsDir.resume(dir, id);
    again.add(unit(1));
    await again.flush({}, '# s\n');
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, 'results.json', 'summary.md']);
    await again.close();
  });

  it('a folder holding only temp files (killed during its first write) resumes from scratch', async () => {
    const dir = tmp();
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'results.json.3141592653'), '');
    writeFileSync(path.join(dir, 'summary.md.2718281828'), '');
    const r = await ResultsDir.resume(dir, id);
    expect(r.size).toBe(0);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    r.add(unit(0));
    await r.flush({}, '');
    await r.close();
    expect(readdirSync(dir).sort()).toEqual(['results.json', 'summary.md']);
  });

  it('an empty folder or one with other files is still "nothing to resume"', async () => {
    const dir = tmp();
    mkdirSync(dir);
    expect((await errorOf(ResultsDir.resume(dir, id)))?.message).toMatch(/nothing to resume/);
    writeFileSync(path.join(dir, 'notes.txt'), 'x');
    writeFileSync(path.join(dir, 'results.json.1'), '');
    expect((await errorOf(ResultsDir.resume(dir, id)))?.message).toMatch(/nothing to resume/);
  });
});

// Two real processes: the child opens the folder through the built package.
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.js');
const types = path.join(path.dirname(dist), 'index.d.ts');
// `pnpm test` builds first; a stale build without the lock skips these
const distHasLock = existsSync(dist) && existsSync(types) && readFileSync(types, 'utf8').includes('One writer per folder');

/** A child process that opens `dir`, flushes one unit, prints "ready", then `then`. */
function holder(dir: string, then: 'wait' | 'exit' | 'throw', mode: 'create' | 'resume' = 'create'): Promise<ChildProcess> {
  const script = `
    import { ResultsDir } from ${JSON.stringify(pathToFileURL(dist).href)};
    const r = await ResultsDir.${mode}(${JSON.stringify(dir)}, { experiment: 'pima', fingerprint: 'f' });
    r.add({ model: 'cr', repeat: 0, fold: 7, accuracy: 0.5, tau: null, trainSeconds: 0.1, nTrain: 9, nTest: 1 });
    await r.flush({}, '');
    process.stdout.write('ready\\n');
    ${then === 'wait' ? 'setInterval(() => {}, 1000);' : then === 'exit' ? 'process.exit(0);' : "throw new Error('boom');"}
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => String(d).includes('ready') && resolve(child));
    child.once('exit', (code) => (then === 'wait' ? reject(new Error(`child exited ${code}: ${err}`)) : setTimeout(() => resolve(child), 0)));
  });
}
const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

describe.skipIf(!distHasLock)('ResultsDir folder lock (two processes, built package)', () => {
  it('a second writer is refused while the first runs; SIGINT releases the lock', async () => {
    const dir = tmp();
    const child = await holder(dir, 'wait');
    const e = await errorOf(ResultsDir.resume(dir, id));
    expect(e?.code).toBe('E_LOCKED');
    expect(e?.message).toMatch(new RegExp(`pid ${child.pid} on host `));
    child.kill('SIGINT');
    await exited(child);
    expect(child.signalCode).toBe('SIGINT'); // ended as the signal would end it
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    const r = await ResultsDir.resume(dir, id);
    expect(r.has('cr', 0, 7)).toBe(true);
    await r.close();
  }, 30_000);

  it('kill -9 leaves a stale lock that the next run takes over', async () => {
    const dir = tmp();
    const child = await holder(dir, 'wait');
    child.kill('SIGKILL');
    await exited(child);
    expect(lockOf(dir).pid).toBe(child.pid);
    const r = await ResultsDir.resume(dir, id);
    expect(r.size).toBe(1);
    expect(lockOf(dir).pid).toBe(process.pid);
    await r.close();
  }, 30_000);

  it('normal exit and an uncaught error both release the lock', async () => {
    for (const then of ['exit', 'throw'] as const) {
      const dir = tmp();
      const child = await holder(dir, then);
      await exited(child);
      expect(child.exitCode).toBe(then === 'exit' ? 0 : 1);
      expect(existsSync(path.join(dir, 'results.json'))).toBe(true);
      expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    }
  }, 30_000);
});
