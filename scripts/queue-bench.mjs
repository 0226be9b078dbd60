#!/usr/bin/env node
// Throughput of the job queue (BullMQ on Redis): a benchmark, not a test.
//
//   pnpm build && node scripts/queue-bench.mjs [--folds 10] [--noop 400] [--depths 16,64,256] [--big-rows 100000] [--parts real,noop]
//
// Needs redis-server on PATH (Debian's redis-server); starts one on 127.0.0.1
// (free port, no persistence, a temporary folder) and stops it at the end.
//
// 1. Real units: `pima --models logreg --folds F` (F units) on the cpu backend,
//    in this process, in 2 worker threads, and through the queue with 1 and 2
//    `chainz worker` processes (concurrency 1 each, warmed up by a first run);
//    units/s, and whether the per-unit numbers equal the in-process run's.
// 2. The coordinator's ceiling: no-op units of the synthetic experiment
//    (packages/bench/src/runner/__fixtures__/queue-plugin.mjs, 2 models ×
//    --noop cells, 16 rows each), through the runner in this process (its
//    per-unit flush of results.json alone), through the queue with 2 workers ×
//    concurrency 4 at several queue depths, and BullMQ alone (add → no-op
//    worker in this process → completed event, no runner, no encoding);
//    then no-op units carrying --big-rows rows (float32 + int32 per row) for
//    the bytes a job can move per second.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = path.join(root, 'packages/bench');
const cli = path.join(benchDir, 'dist/cli.js');
const fixture = path.join(benchDir, 'src/runner/__fixtures__/queue-plugin.mjs');
const require = createRequire(path.join(benchDir, 'package.json'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const folds = Number(arg('folds', 10));
const noop = Number(arg('noop', 400));
const depths = String(arg('depths', '16,64,256')).split(',').map(Number);
const bigRows = Number(arg('big-rows', 100000));
const parts = String(arg('parts', 'real,noop')).split(',');

if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error("queue-bench: redis-server not found (install Debian's redis-server)");
  process.exit(1);
}
const tf = await import(pathToFileURL(require.resolve('@tensorflow/tfjs-core')).href);
await import(pathToFileURL(require.resolve('@tensorflow/tfjs-backend-cpu')).href);
await tf.setBackend('cpu');
tf.env().set('PROD', true);
const bench = await import(pathToFileURL(path.join(benchDir, 'dist/index.js')).href);
const { queueSynth } = await import(pathToFileURL(fixture).href);
bench.registerBuiltinExperiments();
bench.registerExperiment(queueSynth);

const children = new Set();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-queue-bench-'));
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
function start(cmd, args, ready) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CHAINZ_BACKEND: '' } });
  children.add(p);
  p.on('exit', () => children.delete(p));
  let out = '';
  return new Promise((resolve, reject) => {
    const on = (d) => {
      out += d;
      if (ready.test(out)) resolve(p);
    };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.on('exit', (c) => reject(new Error(`${cmd} exited (${c}):\n${out}`)));
  });
}
const stop = (p) => new Promise((resolve) => (p.exitCode !== null ? resolve() : (p.once('exit', resolve), p.kill('SIGTERM'))));

const port = await freePort();
const redisDir = tmp();
const redis = await start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir], /Ready to accept connections/);
const url = `redis://127.0.0.1:${port}`;
const startWorker = (concurrency) => start(process.execPath, [cli, '--plugin', fixture, 'worker', '--queue', url, '--concurrency', String(concurrency), '--backend', 'cpu'], /taking units from/);

const rows = [];
const units = (dir) =>
  JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'))
    .units.map(({ trainSeconds, ...u }) => u)
    .sort((a, b) => JSON.stringify([a.model, a.unit, a.fold]).localeCompare(JSON.stringify([b.model, b.unit, b.fold])));
async function timed(label, experiment, options, n) {
  const out = tmp();
  const t0 = performance.now();
  await bench.runExperiment(experiment, { progress: 'none', backend: 'cpu', ...options, out });
  const s = (performance.now() - t0) / 1000;
  const row = { label, units: n, seconds: s, perSecond: n / s, out };
  rows.push(row);
  console.error(`${label}: ${n} units in ${s.toFixed(2)} s = ${(n / s).toFixed(2)} units/s`);
  return row;
}

try {
  // 1. Real units.
  let same = null;
  if (parts.includes('real')) {
    const pima = { folds, seed: 7, models: ['logreg'] };
    const inproc = await timed('pima logreg, in-process', bench.pimaExperiment, { ...pima, workers: 1 }, folds);
    await timed('pima logreg, 2 worker threads', bench.pimaExperiment, { ...pima, workers: 2 }, folds);
    const w1 = await startWorker(1);
    await bench.runExperiment(bench.pimaExperiment, { folds: 2, seed: 1, models: ['logreg'], queue: url, progress: 'none', backend: 'cpu', out: tmp() }); // warm-up
    const q1 = await timed('pima logreg, queue, 1 worker', bench.pimaExperiment, { ...pima, queue: url }, folds);
    const w2 = await startWorker(1);
    await bench.runExperiment(bench.pimaExperiment, { folds: 4, seed: 2, models: ['logreg'], queue: url, progress: 'none', backend: 'cpu', out: tmp() }); // warm-up
    const q2 = await timed('pima logreg, queue, 2 workers', bench.pimaExperiment, { ...pima, queue: url }, folds);
    same = [q1, q2].every((r) => JSON.stringify(units(r.out)) === JSON.stringify(units(inproc.out)));
    console.error(`queue results equal the in-process run's: ${same ? 'yes' : 'NO'}`);
    await Promise.all([stop(w1), stop(w2)]);
  }

  // 2. The coordinator's ceiling with no-op units.
  if (parts.includes('noop')) {
    const jobs = 2 * noop;
    const synth = { units: noop, rows: 16, unitMs: 0 };
    await timed('no-op, runner in-process (flush per unit)', queueSynth, { ...synth, workers: 1 }, jobs);
    const nw = await Promise.all([startWorker(4), startWorker(4)]);
    await bench.runExperiment(queueSynth, { units: 8, unitMs: 0, queue: url, progress: 'none', backend: 'cpu', out: tmp() }); // warm-up
    for (const depth of depths) await timed(`no-op, queue, 2 workers × 4, depth ${depth}`, queueSynth, { ...synth, queue: url, queueDepth: depth }, jobs);
    const bigCells = 20;
    const big = await timed(`no-op, queue, ${bigRows} rows per payload, depth 64`, queueSynth, { units: bigCells, rows: bigRows, unitMs: 0, queue: url, queueDepth: 64 }, 2 * bigCells);
    const mbPerJob = (Math.ceil((bigRows * 8) / 3) * 4) / 2 ** 20;
    console.error(`  ≈ ${mbPerJob.toFixed(2)} MiB of payload per job: ${(big.perSecond * mbPerJob).toFixed(1)} MiB/s`);
    await Promise.all(nw.map(stop));

    // BullMQ alone: add → no-op worker (this process) → completed event.
    const { Queue, Worker, QueueEvents } = await import(pathToFileURL(require.resolve('bullmq')).href);
    const { Redis } = await import(pathToFileURL(require.resolve('ioredis')).href);
    const conn = () => new Redis({ port, maxRetriesPerRequest: null });
    const q = new Queue('raw', { connection: conn() });
    const ev = new QueueEvents('raw', { connection: conn() });
    await ev.waitUntilReady();
    const wk = new Worker('raw', async () => ({ ok: 1 }), { connection: conn(), concurrency: 16 });
    await wk.waitUntilReady();
    let done = 0;
    const all = new Promise((resolve) => ev.on('completed', () => ++done === jobs && resolve()));
    const t0 = performance.now();
    for (let i = 0; i < jobs; i++) void q.add('n', { i, x: 'x'.repeat(200) }, { jobId: `j${i}` });
    await all;
    const s = (performance.now() - t0) / 1000;
    rows.push({ label: 'BullMQ alone (no runner, no encoding), concurrency 16', units: jobs, seconds: s, perSecond: jobs / s });
    console.error(`BullMQ alone: ${jobs} jobs in ${s.toFixed(2)} s = ${(jobs / s).toFixed(0)} jobs/s`);
    await wk.close();
    await ev.close();
    await q.close();
  }

  const env = `${cpus().length} × ${cpus()[0]?.model}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; Node ${process.version}`;
  console.log(`\n${env}\n`);
  console.log('| run | units | seconds | units/s |');
  console.log('| :-- | --: | --: | --: |');
  for (const r of rows) console.log(`| ${r.label} | ${r.units} | ${r.seconds.toFixed(2)} | ${r.perSecond.toFixed(r.perSecond < 10 ? 2 : 0)} |`);
  if (same !== null) console.log(`\nqueue results equal the in-process run's: ${same ? 'yes' : 'NO'}`);
  console.log(JSON.stringify({ env, rows: rows.map(({ out, ...r }) => r) }));
} finally {
  await stop(redis);
  rmSync(redisDir, { recursive: true, force: true });
}
process.exit(0);
