/**
 * `chainz worker --queue URL`: takes unit jobs from the BullMQ queue on Redis
 * and runs them exactly as worker threads do (runner/worker.ts, in a pool of
 * `concurrency` threads, so this process's event loop stays free to renew
 * its job locks while units train).
 *
 * Before running a unit it checks the job's identity: the wire format, the
 * @chainz/bench version, and the run's fingerprint rebuilt with this
 * process's own models (same experiment name, same model options). A unit
 * that does not match is refused: its job fails with a message naming this
 * worker and what differs, and the coordinator stops the run with it.
 */
import { hostname } from 'node:os';
import { ConfigError, isChainzError } from '@chainz/core';
import { Worker, type Job } from 'bullmq';
import { getExperiment, hasExperiment } from './registry';
import { resolveWorkers, workerExecutor, type UnitExecutor, type UnitTask } from './executor';
import { experimentFingerprint } from './run';
import { decodeFromQueue, encodeForQueue, QUEUE_WIRE_FORMAT } from './queue-codec';
import {
  benchVersion,
  checkRedisReachable,
  closeRedis,
  connectRedis,
  describeUnits,
  failedReasonOf,
  parseQueueUrl,
  QUEUE_NAME,
  QUEUE_PREFIX,
  type LinkLog,
  type QueueJobData,
  type QueueJobResult,
} from './queue';

/** Options of {@link runQueueWorker}. */
export interface QueueWorkerOptions {
  /** Redis URL [--queue]. */
  url: string;
  /**
   * tfjs backend [--backend]: units of runs on another backend are refused.
   * Default: each unit runs on its run's backend (the coordinator's), one
   * pool of worker threads per backend.
   */
  backend?: string;
  /** Plugin module URLs (the same plugins as the coordinator's, for plugin experiments) [--plugin]. */
  plugins?: string[];
  /** Units at once, one worker thread each [--concurrency]; default min(4, CPU cores). */
  concurrency?: number;
  /**
   * Job lock, ms [--lock-duration]; default 30000. Renewed every half of it
   * while a unit runs; a worker that dies holds its unit for at most this long
   * (plus half of it for the stalled-job check) before another worker takes it.
   */
  lockDuration?: number;
  /** Times a unit may be taken back from a dead worker before its job fails; default 2. */
  maxStalledCount?: number;
  /** Runs units; default worker threads (runner/worker.ts). For tests. */
  executor?: UnitExecutor;
  /** One line of information (units started and finished, reconnects); default stderr. */
  log?: (line: string) => void;
  /** Resolves when the worker should stop (finishes the units in progress first). */
  stop?: Promise<unknown>;
}

/** A running queue worker. */
export interface QueueWorkerHandle {
  /** `host:pid`, named in logs and in refusals. */
  name: string;
  /** Stop taking units, finish those in progress, close the connections. */
  close(): Promise<void>;
  /** Resolves once closed. */
  closed: Promise<void>;
}

/**
 * Why this worker cannot run a job's units (wrong format, version, unknown
 * experiment or model, another fingerprint), or undefined when it can.
 */
export function refusalOf(d: QueueJobData, version: string, backend?: string): string | undefined {
  if (!d || typeof d !== 'object' || d.format !== QUEUE_WIRE_FORMAT) return `the job is in wire format ${String(d?.format)}; this worker reads format ${QUEUE_WIRE_FORMAT}`;
  const id = d.identity;
  if (id.version !== version) return `the run was planned by @chainz/bench ${id.version}; this worker runs ${version}`;
  if (backend !== undefined && d.backend !== backend) return `the run computes on the ${d.backend} backend; this worker was started with --backend ${backend}`;
  if (!hasExperiment(d.experiment)) return `this worker has no experiment '${d.experiment}' (load its plugin: chainz worker --plugin …)`;
  const models = getExperiment(d.experiment).models(d.modelOptions) as { name: string; config: Record<string, unknown> }[];
  const mine: [string, Record<string, unknown>][] = [];
  for (const name of id.models) {
    const m = models.find((x) => x.name === name);
    if (!m) return `this worker's experiment '${d.experiment}' has no model '${name}'`;
    mine.push([name, m.config]);
  }
  const fp = experimentFingerprint({ keyFields: id.keyFields, protocol: id.protocol, dataFingerprint: id.dataFingerprint, models: mine });
  if (fp !== id.fingerprint) {
    return `fingerprint mismatch: this worker's models of '${d.experiment}' give ${fp.slice(0, 12)}…, the run's is ${id.fingerprint.slice(0, 12)}… (different model configurations: another version of the experiment's code or plugin)`;
  }
  return undefined;
}

/**
 * Connect to Redis and process unit jobs until `stop` resolves (or
 * `close()` is called).
 * @throws ConfigError for a malformed URL; QueueError when Redis cannot be reached at start.
 */
export async function runQueueWorker(o: QueueWorkerOptions): Promise<QueueWorkerHandle> {
  const target = parseQueueUrl(o.url);
  let concurrency: number;
  try {
    concurrency = resolveWorkers(o.concurrency);
  } catch (e) {
    // The same limits as --workers, named as this command's flag.
    if (!isChainzError(e)) throw e;
    throw new ConfigError(e.message.replace(/^option --workers: /, ''), { option: '--concurrency' }, e.hint?.replace(/--workers/g, '--concurrency'));
  }
  const lockDuration = o.lockDuration ?? 30_000;
  if (!Number.isInteger(lockDuration) || lockDuration < 500) throw new ConfigError(`must be an integer number of milliseconds ≥ 500, got ${lockDuration}`, { option: '--lock-duration' });
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const name = `${hostname()}:${process.pid}`;
  const say = (line: string) => log(`[worker ${name}] ${line}`);
  await checkRedisReachable(target);

  const version = benchVersion();
  // One pool of worker threads per backend (units run on their run's backend), built on first use.
  const pools = new Map<string, Promise<UnitExecutor>>();
  const executorFor = (backend: string) => {
    if (o.executor) return Promise.resolve(o.executor);
    let p = pools.get(backend);
    if (!p) {
      p = workerExecutor(concurrency, backend, o.plugins ?? []);
      pools.set(backend, p);
    }
    return p;
  };
  const link: LinkLog = { log: say, down: new Set() };
  const conn = connectRedis(target, link, `chainz-worker-${name}`);

  const processor = async (job: Job<QueueJobData, QueueJobResult>): Promise<QueueJobResult> => {
    const d = job.data;
    const what = `${d?.experiment} ${describeUnits(d?.model, d?.cells)}`;
    const refusal = refusalOf(d, version, o.backend);
    if (refusal) {
      say(`refused ${what}: ${refusal}`);
      throw new ConfigError(`worker ${name} refused the unit: ${refusal}`, { option: '--queue' }, 'run workers from the same @chainz/bench version and experiment code (and plugins) as the coordinator');
    }
    const started = performance.now();
    say(`started ${what} (job ${job.id})`);
    try {
      const task: UnitTask<unknown> = {
        experiment: d.experiment,
        modelOptions: d.modelOptions,
        model: d.model,
        payloads: decodeFromQueue(d.payloads, 'payloads') as unknown[],
        seeds: d.seeds,
        cells: d.cells,
        identity: d.identity,
      };
      const outputs = await (await executorFor(d.backend)).run(task);
      say(`finished ${what} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return { format: QUEUE_WIRE_FORMAT, outputs: encodeForQueue(outputs, 'outputs'), worker: name };
    } catch (e) {
      say(`failed ${what}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      throw new Error(failedReasonOf(e));
    }
  };

  const worker = new Worker<QueueJobData, QueueJobResult>(QUEUE_NAME, processor, {
    connection: conn,
    prefix: QUEUE_PREFIX,
    name,
    concurrency,
    lockDuration,
    stalledInterval: Math.max(250, Math.round(lockDuration / 2)),
    maxStalledCount: o.maxStalledCount ?? 2,
    autorun: false,
  });
  worker.on('error', (e: Error) => {
    // Connection errors are logged once by connectRedis; others here, explained where we know them.
    const msg = String(e?.message ?? e);
    if (/ECONNREFUSED|ECONNRESET|Connection is closed|ETIMEDOUT/.test(msg)) return;
    if (/Missing key for job/.test(msg)) say(`${msg}: the job is no longer in Redis (restarted without persistence?); this result is dropped and the coordinator enqueues the unit again`);
    else if (/Missing lock for job|Lock mismatch/.test(msg)) say(`${msg}: this worker lost the job's lock (it stalled past --lock-duration) and another worker took the unit over; this result is dropped`);
    else say(`queue error: ${msg}`);
  });
  worker.on('stalled', (jobId: string) => say(`job ${jobId} had lost its worker and is queued again`));
  void worker.run().catch((e) => say(`stopped: ${String((e as Error)?.message ?? e)}`));
  await worker.waitUntilReady();
  say(`taking units from ${target.masked} (concurrency ${concurrency}, @chainz/bench ${version}, backend ${o.backend ?? "each run's own"})`);

  let closing: Promise<void> | undefined;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const close = () =>
    (closing ??= (async () => {
      try {
        await worker.close();
        await Promise.allSettled([...pools.values()].map(async (p) => (await p).close()));
        await closeRedis(conn);
      } finally {
        markClosed();
      }
    })());
  if (o.stop) void o.stop.then(close);
  return { name, close, closed };
}
