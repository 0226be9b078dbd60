// The job queue end to end: a redis-server started here (127.0.0.1, a free
// port, no persistence, a temporary folder) and stopped after, `chainz worker`
// processes of the built CLI (`pnpm test` builds first), the coordinator in
// this process or as a CLI process. Faults: a worker SIGKILLed mid-unit,
// Redis restarted mid-run, the coordinator SIGKILLed and resumed, Redis
// unreachable, a worker of another fingerprint.
//
// Needs Debian's redis-server (.ci/run installs it). Without it these tests
// fail, naming it, unless CHAINZ_SKIP_REDIS=1.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runExperiment } from './run';
import { registerExperiment } from './registry';
import { pimaExperiment } from '../experiments/pima';
import { registerBuiltinExperiments } from '../experiments';
import type { Experiment } from './contract';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../../dist/cli.js');
const fixture = path.join(here, '__fixtures__', 'queue-plugin.mjs');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-queue-'));
const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = !hasRedis && process.env.CHAINZ_SKIP_REDIS === '1';

/** Every process started here, killed at the end whatever happens. */
const children = new Set<ChildProcess>();
process.once('exit', () => children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL')));

/** A child process whose stdout + stderr lines are kept, with a wait for a line. */
interface Proc {
  proc: ChildProcess;
  text(): string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

function start(cmd: string, args: string[], env: Record<string, string> = {}): Proc {
  const proc = spawn(cmd, args, { env: { ...process.env, CHAINZ_BACKEND: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    waiters.forEach((w) => w());
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      children.delete(proc);
      waiters.forEach((w) => w());
      resolve(code);
    }),
  );
  return {
    proc,
    text: () => out,
    exited,
    waitFor(re, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${out}`)), timeoutMs);
        const check = () => {
          const m = re.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            clearTimeout(timer);
            reject(new Error(`exited (${proc.exitCode ?? proc.signalCode}) before ${re}:\n${out}`));
          }
        };
        waiters.push(check);
        check();
      });
    },
  };
}

async function stop(p: Proc, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill(signal);
  await p.exited;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** redis-server on 127.0.0.1:port, no persistence, in a temporary folder. */
async function startRedis(port: number, extra: string[] = []): Promise<Proc> {
  const dir = tmp();
  const r = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra]);
  await r.waitFor(/Ready to accept connections/, 20_000);
  void r.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  return r;
}

/** `chainz worker` (built CLI) with the synthetic-experiment plugin; units run on the cpu backend. */
async function startWorker(url: string, env: Record<string, string> = {}): Promise<Proc> {
  // (CHAINZ_REDIS_PASSWORD in env gives the password without putting it on the command line.)
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`pnpm build\` first (pnpm test does)`);
  const w = start(process.execPath, [cli, '--plugin', fixture, 'worker', '--queue', url, '--concurrency', '1', '--backend', 'cpu', '--lock-duration', '3000'], env);
  await w.waitFor(/taking units from/);
  return w;
}

/** Wait (polling) until `ok()` holds. */
async function until(ok: () => boolean, what: () => string, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out; log:\n${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Units of a results folder (timings dropped), sorted. */
function unitsOf(dir: string): Record<string, unknown>[] {
  const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { units: Record<string, unknown>[] };
  return doc.units
    .map(({ trainSeconds: _t, ...u }) => u)
    .sort((a, b) => JSON.stringify([a.model, a.unit, a.repeat, a.fold]).localeCompare(JSON.stringify([b.model, b.unit, b.repeat, b.fold])));
}

/** Units each worker log says it started, as `model unit` strings. */
const startedUnits = (...logs: string[]) => logs.flatMap((t) => [...t.matchAll(/started queue-synth (\w+) unit (\d+)/g)].map((m) => `${m[1]} ${m[2]}`));

describe.skipIf(skip)('units on a BullMQ queue (redis-server, built CLI workers)', () => {
  let synth: Experiment;
  let redis: Proc;
  let port: number;
  let reference: Record<string, unknown>[];
  const SYNTH = { units: 3, rows: 24 };

  beforeAll(async () => {
    if (!hasRedis) throw new Error("redis-server not found: install Debian's redis-server (.ci/run does), or set CHAINZ_SKIP_REDIS=1 to skip these tests");
    synth = ((await import(pathToFileURL(fixture).href)) as { queueSynth: Experiment }).queueSynth;
    registerExperiment(synth);
    registerBuiltinExperiments();
    port = await freePort();
    redis = await startRedis(port);
    // The in-process reference of the synthetic runs.
    const dir = tmp();
    await runExperiment(synth, { ...SYNTH, out: dir, progress: 'none', backend: 'cpu', workers: 1 });
    reference = unitsOf(dir);
    expect(reference).toHaveLength(6);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...children].map((c) => new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(null) : (c.once('exit', resolve), c.kill('SIGKILL'))))));
    expect(children.size).toBe(0);
  });

  it('two workers, one SIGKILLed mid-unit: its unit is taken back and run once more, nothing is lost or doubled; synthetic and pima units equal the in-process run', async () => {
    const url = `redis://127.0.0.1:${port}/1`;
    const [a, b] = await Promise.all([startWorker(url), startWorker(url)]);
    const out = tmp();
    const run = runExperiment(synth, { ...SYNTH, unitMs: 1500, queue: url, out, progress: 'none', backend: 'cpu' });
    const m = await a.waitFor(/started queue-synth (\w+) unit (\d+)/);
    await stop(a, 'SIGKILL');
    const r = await run;
    expect(r.executor).toBe(`queue redis://127.0.0.1:${port}/1`);
    expect(r.computedUnits).toBe(6);
    expect(unitsOf(out)).toEqual(reference);
    // The killed unit went back to the queue and the other worker ran it.
    expect(b.text()).toMatch(/had lost its worker and is queued again/);
    expect(startedUnits(b.text())).toContain(`${m[1]} ${m[2]}`);
    const doc = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(doc.status).toBe('complete');
    expect(doc.environment.executor).toBe(`queue redis://127.0.0.1:${port}/1`);

    // A real experiment through the surviving worker: FitResult (Int32Array predictions, τ) bit-identical.
    const pima = { folds: 2, seed: 3, models: ['logreg', 'majority'], progress: 'none' as const, backend: tf.getBackend() };
    const qDir = tmp(), iDir = tmp();
    await runExperiment(pimaExperiment, { ...pima, queue: url, out: qDir });
    await runExperiment(pimaExperiment, { ...pima, workers: 1, out: iDir });
    expect(unitsOf(qDir)).toEqual(unitsOf(iDir));
    expect(unitsOf(qDir)).toHaveLength(4);
    await stop(b, 'SIGTERM');
  }, 240_000);

  it('Redis (with a password) restarted mid-run, its jobs lost: coordinator and worker reconnect, the lost jobs are enqueued again, the run completes; the password is written nowhere', async () => {
    const p2 = await freePort();
    const pw = 'pw-4f9c1e7a';
    let r2 = await startRedis(p2, ['--requirepass', pw]);
    const url = `redis://:${pw}@127.0.0.1:${p2}`;
    const w = await startWorker(`redis://127.0.0.1:${p2}`, { CHAINZ_REDIS_PASSWORD: pw });
    const out = tmp();
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (lines.push(String(s)), true));
    try {
      const run = runExperiment(synth, { ...SYNTH, unitMs: 2000, queue: url, out, progress: 'none', backend: 'cpu' });
      await w.waitFor(/started queue-synth/);
      await stop(r2, 'SIGKILL');
      await new Promise((res) => setTimeout(res, 1500));
      r2 = await startRedis(p2, ['--requirepass', pw]);
      await run;
    } finally {
      spy.mockRestore();
    }
    expect(unitsOf(out)).toEqual(reference);
    const coordinator = lines.join('');
    expect(coordinator).toMatch(new RegExp(`queue: lost the connection to Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${p2}/0 \\(.+\\); reconnecting`));
    expect(coordinator).toMatch(/queue: reconnected to Redis/);
    expect(coordinator).toMatch(/is no longer in Redis \(restarted without persistence\?\); enqueued again/);
    expect(w.text()).toMatch(/lost the connection to Redis at .*; reconnecting/);
    expect(w.text()).toMatch(/reconnected to Redis/);
    // The queue is recorded with the password masked; the password appears in no file and no message.
    const doc = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(doc.environment.executor).toBe(`queue redis://:***@127.0.0.1:${p2}/0`);
    for (const f of ['results.json', 'summary.md']) expect(readFileSync(path.join(out, f), 'utf8')).not.toContain(pw);
    expect(coordinator + w.text()).not.toContain(pw);
    await stop(w, 'SIGTERM');
    await stop(r2, 'SIGTERM');
  }, 180_000);

  it('the coordinator SIGKILLed: --resume collects what finished meanwhile and runs nothing twice', async () => {
    const url = `redis://127.0.0.1:${port}/2`;
    const w = await startWorker(url);
    const out = tmp();
    const args = ['--plugin', fixture, 'bench', 'queue-synth', '--units', String(SYNTH.units), '--rows', String(SYNTH.rows), '--unit-ms', '1200', '--queue', url, '--backend', 'cpu'];
    const c = start(process.execPath, [cli, ...args, '--out', out]);
    await c.waitFor(/\[queue-synth 2\/6\]/);
    await stop(c, 'SIGKILL');
    const saved = unitsOf(out).length; // 2, or 1 if killed between the progress line and the flush
    expect(saved).toBeGreaterThanOrEqual(1);
    expect(saved).toBeLessThan(6);
    // The worker goes on with the queued units while no coordinator listens.
    await until(() => (w.text().match(/finished queue-synth/g) ?? []).length > saved, () => w.text());
    const r = await runExperiment(synth, { ...SYNTH, unitMs: 1200, queue: url, resume: out, progress: 'none', backend: 'cpu' });
    expect(r.computedUnits).toBe(6 - saved);
    expect(unitsOf(out)).toEqual(reference);
    // Every unit was started exactly once by the worker: none ran again.
    const started = startedUnits(w.text()).sort();
    expect(started).toEqual(['a 0', 'a 1', 'a 2', 'b 0', 'b 1', 'b 2']);
    await stop(w, 'SIGTERM');
  }, 180_000);

  it('a worker with another model configuration refuses the unit: the run stops with its message, nothing is written, and the same run then completes on a matching worker', async () => {
    const url = `redis://127.0.0.1:${port}/3`;
    const stale = await startWorker(url, { CHAINZ_QUEUE_TEST_VARIANT: 'b' });
    const out = tmp();
    const opts = { ...SYNTH, queue: url, out, progress: 'none' as const, backend: 'cpu' };
    await expect(runExperiment(synth, opts)).rejects.toThrow(
      /^queue-synth: model [ab], unit \d: option --queue: worker [^ ]+ refused the unit: fingerprint mismatch: this worker's models of 'queue-synth' give [0-9a-f]{12}…, the run's is [0-9a-f]{12}…/,
    );
    expect(stale.text()).toMatch(/refused queue-synth [ab] unit \d: fingerprint mismatch/);
    expect(existsSync(path.join(out, 'results.json'))).toBe(false);
    await stop(stale, 'SIGTERM');
    // The failed jobs of the refused run are replaced, not reported again.
    const w = await startWorker(url);
    await runExperiment(synth, opts);
    expect(unitsOf(out)).toEqual(reference);
    await stop(w, 'SIGTERM');
  }, 180_000);

  it('a task over the size limit is refused before it is enqueued, with the hint to use worker threads', async () => {
    const { queueExecutor, parseQueueUrl } = await import('./queue');
    const identity = { fingerprint: '0'.repeat(64), keyFields: ['unit'], protocol: {}, dataFingerprint: '', models: ['a'], version: '' };
    const ex = await queueExecutor({ target: parseQueueUrl(`redis://127.0.0.1:${port}/5`), backend: 'cpu', maxJobBytes: 2 ** 20 });
    try {
      const task = (payload: unknown) => ({ experiment: 'queue-synth', modelOptions: {}, model: 'a', payloads: [payload], seeds: [0], cells: [{ unit: 0 }], identity });
      // typed arrays alone over the limit: refused without encoding
      await expect(ex.run(task({ x: new Float32Array(300_000) }))).rejects.toThrow(/^option --queue: the unit's task is at least 1\.5 MiB serialised, over the queue's limit of 1\.0 MiB per job$/);
      // the whole JSON over the limit
      await expect(ex.run(task({ s: 'x'.repeat(1.2 * 2 ** 20) }))).rejects.toMatchObject({ message: /the unit's task is 1\.2 MiB serialised/, hint: /leave out --queue; --workers N/ });
    } finally {
      await ex.close();
    }
  }, 60_000);

  it('Redis unreachable at start: one line naming the URL with the password masked, before any work (coordinator and worker)', async () => {
    const closed = await freePort();
    const url = `redis://ops:s3cret-pw@127.0.0.1:${closed}/4`;
    const cwd = tmp();
    const env = { INIT_CWD: cwd };
    const [c, w] = [start(process.execPath, [cli, 'bench', 'pima', '--folds', '2', '--queue', url, '--no-progress'], env), start(process.execPath, [cli, 'worker', '--queue', url], env)];
    const [cc, wc] = await Promise.all([c.exited, w.exited]);
    const line = new RegExp(`^chainz: QueueError: option --queue: cannot reach Redis at redis://ops:\\*\\*\\*@127\\.0\\.0\\.1:${closed}/4 \\(connection refused\\)$`, 'm');
    for (const [p, code] of [[c, cc], [w, wc]] as const) {
      expect(code, p.text()).toBe(1);
      expect(p.text()).toMatch(line);
      expect(p.text()).not.toMatch(/s3cret/);
      expect(p.text().trim().split('\n')).toHaveLength(2); // the line and its hint
    }
    expect(existsSync(path.join(cwd, 'results'))).toBe(false);
  }, 120_000);
});
