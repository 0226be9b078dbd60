/**
 * Units on a job queue: BullMQ on Redis.
 *
 * `chainz bench <experiment> --queue redis://[user:pass@]host:port[/db]`
 * (or `rediss://` for TLS) makes the run's coordinator enqueue one job per
 * unit task ({@link queueExecutor}); `chainz worker --queue …` processes,
 * on any machine, run them ({@link runQueueWorker} in `queue-worker.ts`) and
 * the coordinator collects the outputs into the same results.json.
 *
 * ```
 * coordinator (runExperiment)                 Redis (BullMQ queue chainz:units)        chainz worker × N
 *   task ──encode──▶ job {identity, payloads} ──▶ wait ──▶ active (locked) ──────────▶ check identity, run the unit
 *   results.json ◀── record ◀──decode── completed (return value) ◀───────────────────── outputs (encoded)
 * ```
 *
 * Guarantees: a job's id is derived from the run's fingerprint and the unit's
 * key, so enqueuing is idempotent and a resumed coordinator finds the jobs of
 * the one before it (finished ones are collected, queued ones awaited); a job
 * whose worker dies is put back by BullMQ's stalled-job check and run again;
 * each unit is resolved once, later completions of the same job id are
 * ignored; collected jobs stay in Redis until the executor is closed (after
 * the runner's last write), so none is lost between its collection and
 * results.json; a job that vanished (Redis restarted without persistence) is
 * enqueued again. What is sent and why: docs/scaling.md.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { ChainzError, ConfigError, isChainzError, type ChainzErrorCode } from '@chainz/core';
import { Redis, type RedisOptions } from 'ioredis';
import { Queue, QueueEvents } from 'bullmq';
import type { CellKey } from './contract';
import type { UnitExecutor, UnitTask, TaskIdentity } from './executor';
import { decodeFromQueue, encodeForQueue, QUEUE_WIRE_FORMAT, typedArrayBase64Bytes } from './queue-codec';

/** Key prefix and name of the queue every coordinator and worker on a Redis database share. */
export const QUEUE_PREFIX = 'chainz';
export const QUEUE_NAME = 'units';

/** Largest job (a unit task's JSON, payloads included) the coordinator enqueues: 64 MiB. */
export const DEFAULT_MAX_JOB_BYTES = 64 * 1024 * 1024;
/** Unit tasks kept in the queue at once by one coordinator (and their payloads in its memory). */
export const DEFAULT_QUEUE_DEPTH = 64;

/** The @chainz/bench version of this process (carried by every job; workers of another version refuse it). */
export function benchVersion(): string {
  return (createRequire(import.meta.url)('@chainz/bench/package.json') as { version: string }).version;
}

/** Redis could not be reached, or the queue failed: names the URL with the password masked. */
export class QueueError extends ChainzError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super('E_IO', message, { option: '--queue' }, hint, options);
    this.name = 'QueueError';
  }
}

/** A Redis server named by a `--queue` URL. */
export interface RedisTarget {
  /** The URL as given (may hold a password: never print or store it). */
  url: string;
  /** The URL with the password replaced by `***`, for messages and results.json. */
  masked: string;
  /** ioredis connection options: host, port, db, username, password, tls. */
  options: RedisOptions;
}

/**
 * Parse `redis://[user:pass@]host[:port][/db]` or `rediss://…` (TLS).
 * User and password are URL-decoded; the port defaults to 6379, the
 * database to 0. A URL without a password takes `CHAINZ_REDIS_PASSWORD`
 * from `env` when set (keeps it out of command lines and shell history).
 * @throws ConfigError (option `--queue`) for another scheme, no host, a bad port or database, or query parameters.
 */
export function parseQueueUrl(raw: string, env: Record<string, string | undefined> = process.env): RedisTarget {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new ConfigError(`not a URL: '${maskUrlText(raw)}'`, { option: '--queue' }, 'give redis://[user:pass@]host:port[/db] or rediss://… for TLS');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ConfigError(`'${maskUrlText(raw)}' is not a redis:// or rediss:// URL`, { option: '--queue' }, 'give redis://[user:pass@]host:port[/db] or rediss://… for TLS');
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new ConfigError(`'${maskUrlText(raw)}' names no host`, { option: '--queue' });
  const port = u.port === '' ? 6379 : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`'${maskUrlText(raw)}': port must be 1–65535`, { option: '--queue' });
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) throw new ConfigError(`'${maskUrlText(raw)}': the path must be a database number (/0, /1 …), got '/${dbText}'`, { option: '--queue' });
  const db = dbText === '' ? 0 : Number(dbText);
  if (u.search || u.hash) throw new ConfigError(`'${maskUrlText(raw)}': query parameters are not read; give redis://[user:pass@]host:port[/db]`, { option: '--queue' });
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password) || env.CHAINZ_REDIS_PASSWORD || '';
  const hostText = host.includes(':') ? `[${host}]` : host;
  const auth = username || password ? `${username ? encodeURIComponent(username) : ''}${password ? ':***' : ''}@` : '';
  const options: RedisOptions = {
    host,
    port,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  return { url: raw, masked: `${u.protocol}//${auth}${hostText}:${port}/${db}`, options };
}

/** `scheme://user:***@…` for any text that looks like a URL with a password (used before the URL is known to parse). */
export function maskUrlText(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}

/** One short reason for a connection error (`connection refused`, `unknown host`, the server's reply). */
function reasonOf(e: unknown): string {
  const err = e as { code?: string; message?: string };
  switch (err?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return maskUrlText(String(err?.message ?? e).split('\n')[0]);
  }
}

/**
 * Connect once, without retrying, and PING: fails fast, before any work, when
 * Redis is down, the address is wrong, or the credentials are refused.
 * @throws QueueError `cannot reach Redis at redis://:***@host:port/db (connection refused)`.
 */
export async function checkRedisReachable(target: RedisTarget, timeoutMs = 5000): Promise<void> {
  const r = new Redis({ ...target.options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let last: unknown;
  r.on('error', (e: unknown) => (last = e));
  try {
    await r.connect();
    const pong = await r.ping();
    if (pong !== 'PONG') throw new Error(`unexpected reply to PING: ${String(pong)}`);
  } catch (e) {
    const why = reasonOf(last && (e as Error)?.message?.includes('Connection is closed') ? last : e);
    throw new QueueError(
      `cannot reach Redis at ${target.masked} (${why})`,
      /auth|pass|permission|noperm/i.test(why) ? 'check the user and password in the URL (Redis ACL), and rediss:// if the server wants TLS' : 'start redis-server there, or check the host, port, and rediss:// if the server wants TLS',
      { cause: e },
    );
  } finally {
    r.disconnect();
  }
}

/** Shared state of a process's Redis connections: one message per outage, not one per connection. */
export interface LinkLog {
  log(line: string): void;
  down: Set<Redis>;
}

/**
 * A long-lived connection for BullMQ: retries every ≤ 2 s forever (Redis
 * restarted, network down), with one line when the link is lost and one when
 * it is back.
 */
export function connectRedis(target: RedisTarget, link: LinkLog, name: string): Redis {
  const r = new Redis({
    ...target.options,
    connectionName: name,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  });
  r.on('error', (e: unknown) => {
    if (link.down.size === 0) link.log(`lost the connection to Redis at ${target.masked} (${reasonOf(e)}); reconnecting`);
    link.down.add(r);
  });
  r.on('ready', () => {
    if (link.down.delete(r) && link.down.size === 0) link.log(`reconnected to Redis at ${target.masked}`);
  });
  return r;
}

/** Close a connection: QUIT, or drop it when Redis does not answer. */
export async function closeRedis(r: Redis): Promise<void> {
  if (r.status === 'end') return;
  try {
    await Promise.race([r.quit(), new Promise((_, rej) => setTimeout(() => rej(new Error('quit timed out')), 1000).unref())]);
  } catch {
    r.disconnect();
  }
}

/** What a job carries: the task (payloads encoded) and the identity workers check. */
export interface QueueJobData {
  /** Wire format version ({@link QUEUE_WIRE_FORMAT}). */
  format: number;
  identity: TaskIdentity;
  experiment: string;
  /** tfjs backend the run computes on (the coordinator's; recorded in results.json). */
  backend: string;
  modelOptions: UnitTask<unknown>['modelOptions'];
  model: string;
  /** The units' cell keys (for job ids, logs and errors). */
  cells: CellKey[];
  seeds: number[];
  /** Encoded with {@link encodeForQueue}. */
  payloads: unknown;
}

/** What a worker returns for a job. */
export interface QueueJobResult {
  format: number;
  /** The outputs, encoded with {@link encodeForQueue}, one per payload. */
  outputs: unknown;
  /** The worker that ran it (`host:pid`). */
  worker: string;
}

/**
 * The job id of a task: experiment, the run fingerprint's first 16 hex digits
 * and a digest of model and cell keys — the same unit of the same run always
 * gets the same id.
 */
export function jobIdOf(task: Pick<UnitTask<unknown>, 'experiment' | 'model' | 'cells' | 'identity'>): string {
  const unit = createHash('sha256').update(JSON.stringify([task.model, task.cells ?? []])).digest('hex').slice(0, 20);
  return `${task.experiment}.${task.identity!.fingerprint.slice(0, 16)}.${unit}`;
}

/** `logreg repeat 0, fold 1` for messages. */
export function describeUnits(model: string, cells: CellKey[] | undefined): string {
  const keys = (cells ?? []).map((c) => Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', '));
  return `${model}${keys.length > 0 ? ` ${keys.join('; ')}` : ''}`;
}

/**
 * The text a worker stores as a failed job's reason: `Name [E_CODE]: message`
 * and, if any, `\nhint: …` — read back by {@link errorFromFailedReason}.
 */
export function failedReasonOf(e: unknown): string {
  if (isChainzError(e)) return `${e.name} [${e.code}]: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** An error a queue worker reported for a unit, rebuilt on the coordinator (same name, code, message and hint). */
export class RemoteUnitError extends ChainzError {
  constructor(name: string, code: ChainzErrorCode, message: string, hint?: string) {
    super(code, message, {}, hint);
    this.name = name;
  }
}

/** Rebuild a worker's error from a failed job's reason (see {@link failedReasonOf}); BullMQ's own reasons (stalled jobs) get an explanation. */
export function errorFromFailedReason(reason: string | undefined): Error {
  const text = reason ?? 'the job failed without a reason';
  const m = /^([A-Za-z]+) \[(E_[A-Z_]+)\]: ([\s\S]*?)(?:\nhint: ([\s\S]*))?$/.exec(text);
  if (m) return new RemoteUnitError(m[1], m[2] as ChainzErrorCode, m[3], m[4]);
  if (/stalled more than allowable limit/i.test(text)) {
    return new QueueError(`the unit's worker stopped responding too many times (killed, out of memory, or blocked past --lock-duration): ${text}`, 'check the workers\' logs and memory; --resume DIR runs the unit again');
  }
  const plain = /^([A-Za-z]*Error): ([\s\S]*)$/.exec(text);
  const e = new Error(plain ? plain[2] : text);
  if (plain) e.name = plain[1];
  return e;
}

/** Options of {@link queueExecutor}. */
export interface QueueExecutorOptions {
  target: RedisTarget;
  /** tfjs backend the units must run on (the run's, recorded in results.json); workers use it or refuse the unit. */
  backend: string;
  /** Unit tasks in the queue at once; default {@link DEFAULT_QUEUE_DEPTH}. */
  depth?: number;
  /** Largest job in bytes of JSON; default {@link DEFAULT_MAX_JOB_BYTES}. */
  maxJobBytes?: number;
  /** How often the coordinator checks its jobs' states, ms (catches events missed while Redis was away); default 1000. */
  reconcileMs?: number;
  /** One line of information (reconnects, re-enqueued jobs, no worker connected). */
  log?: (line: string) => void;
}

interface Waiting {
  id: string;
  task: UnitTask<unknown>;
  data: QueueJobData;
  submitted: boolean;
  resolve(outputs: unknown[]): void;
  reject(e: unknown): void;
}

/**
 * Run unit tasks on `chainz worker` processes through a BullMQ queue on Redis.
 * `run(task)` enqueues one job (idempotent id, see {@link jobIdOf}) and
 * resolves with the outputs a worker returned, decoded bit for bit. The first
 * failed job rejects every task still waiting (their jobs stay queued and are
 * collected by `--resume`).
 *
 * Tasks need `cells` and `identity` (runExperiment sets them). Call
 * `close()` once the outputs are stored: it removes the collected jobs from
 * Redis (until then a restarted coordinator can collect them again).
 * @throws QueueError when Redis cannot be reached (checked first, once).
 */
export async function queueExecutor(o: QueueExecutorOptions): Promise<UnitExecutor> {
  const { target } = o;
  const depth = o.depth ?? DEFAULT_QUEUE_DEPTH;
  if (!Number.isInteger(depth) || depth < 1) throw new ConfigError(`queue depth must be an integer ≥ 1, got ${depth}`, { option: 'queueDepth' });
  const maxJobBytes = o.maxJobBytes ?? DEFAULT_MAX_JOB_BYTES;
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  await checkRedisReachable(target);

  const link: LinkLog = { log: (l) => log(`queue: ${l}`), down: new Set() };
  const qConn = connectRedis(target, link, 'chainz-coordinator');
  const eConn = connectRedis(target, link, 'chainz-coordinator-events');
  const queue = new Queue(QUEUE_NAME, { connection: qConn, prefix: QUEUE_PREFIX, streams: { events: { maxLen: 1000 } } });
  const events = new QueueEvents(QUEUE_NAME, { connection: eConn, prefix: QUEUE_PREFIX });
  // Connection errors are logged by connectRedis; BullMQ re-emits them here.
  queue.on('error', () => {});
  events.on('error', () => {});
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);

  const waiting = new Map<string, Waiting>();
  /**
   * Jobs collected by this coordinator. They stay in Redis until close(): the
   * runner writes a result to results.json after `run` resolves, so a
   * coordinator killed in between finds the job again on --resume.
   */
  const collected: string[] = [];
  let stopped: unknown;

  const finish = (w: Waiting) => {
    waiting.delete(w.id);
  };
  const collect = (w: Waiting, value: unknown) => {
    if (waiting.get(w.id) !== w) return; // already collected: a second completion of the same job id is ignored
    let outputs: unknown[];
    try {
      const r = value as QueueJobResult | null;
      if (!r || r.format !== QUEUE_WIRE_FORMAT) throw new ConfigError(`job ${w.id} returned a result in format ${String(r?.format)}, not ${QUEUE_WIRE_FORMAT}`, { option: '--queue' });
      outputs = decodeFromQueue(r.outputs, 'outputs') as unknown[];
      if (!Array.isArray(outputs) || outputs.length !== w.task.payloads.length) {
        throw new ConfigError(`job ${w.id} returned ${Array.isArray(outputs) ? outputs.length : 'no'} outputs for ${w.task.payloads.length} payloads`, { option: '--queue' });
      }
    } catch (e) {
      fail(w, e);
      return;
    }
    finish(w);
    collected.push(w.id);
    w.resolve(outputs);
  };
  const fail = (w: Waiting, e: unknown) => {
    if (waiting.get(w.id) !== w) return;
    finish(w);
    w.reject(e);
    // The run stops at its first failed unit: release the other waiting tasks (their jobs stay for --resume).
    stopped ??= e;
    for (const other of [...waiting.values()]) {
      waiting.delete(other.id);
      other.reject(new QueueError('the run stopped: another unit failed'));
    }
  };

  events.on('completed', ({ jobId, returnvalue }) => {
    const w = waiting.get(jobId);
    if (w) collect(w, returnvalue);
  });
  events.on('failed', ({ jobId, failedReason }) => {
    const w = waiting.get(jobId);
    if (w) fail(w, errorFromFailedReason(failedReason));
  });

  const version = benchVersion();
  const enqueue = async (w: Waiting) => {
    await queue.add(`${w.task.experiment}/${w.task.model}`, w.data, {
      jobId: w.id,
      attempts: 1,
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  };
  /** A job of this id may exist from an earlier coordinator of the same run: collect it, wait for it, or replace a failed one. */
  const submit = async (w: Waiting) => {
    // State first, then the job: a job read before its state could have completed in between, without its return value.
    const state = await queue.getJobState(w.id);
    if (state === 'completed') {
      const job = await queue.getJob(w.id);
      w.submitted = true;
      if (job) collect(w, job.returnvalue);
      return;
    }
    if (state === 'failed' || state === 'unknown') {
      if (state === 'failed') await queue.remove(w.id);
      await enqueue(w);
    }
    w.submitted = true;
  };

  // Reconcile: states of the submitted jobs, for events missed while Redis was away or a job that vanished with it.
  let reconciling = false;
  let lastProgress = Date.now();
  let warnedIdle = false;
  const reconcile = async () => {
    if (reconciling || waiting.size === 0) return;
    reconciling = true;
    try {
      // All states at once (one round trip's worth over a pipelined connection), then act on each.
      const ws = [...waiting.values()].filter((w) => w.submitted);
      const states = await Promise.all(ws.map((w) => queue.getJobState(w.id)));
      for (const [i, w] of ws.entries()) {
        const state = states[i];
        if (waiting.get(w.id) !== w) continue;
        if (state === 'completed') {
          const job = await queue.getJob(w.id);
          if (job) collect(w, job.returnvalue);
        } else if (state === 'failed') {
          const job = await queue.getJob(w.id);
          fail(w, errorFromFailedReason(job?.failedReason));
        } else if (state === 'unknown') {
          link.log(`job ${w.id} (${w.task.experiment} ${describeUnits(w.task.model, w.task.cells)}) is no longer in Redis (restarted without persistence?); enqueued again`);
          await enqueue(w);
        }
      }
      if (waiting.size > 0 && Date.now() - lastProgress > 15_000 && !warnedIdle) {
        if ((await queue.getWorkersCount()) === 0) {
          warnedIdle = true;
          link.log(`no worker is taking units from ${target.masked}; start one with: chainz worker --queue ${target.masked} (and the same --plugin options)`);
        }
      }
    } catch {
      // Redis away: the connections log it and retry; the next round tries again.
    } finally {
      reconciling = false;
    }
  };
  const timer = setInterval(() => void reconcile(), o.reconcileMs ?? 1000);
  timer.unref();

  return {
    concurrency: depth,
    kind: `queue ${target.masked}`,
    run<P, O>(task: UnitTask<P>): Promise<O[]> {
      if (stopped !== undefined) return Promise.reject(new QueueError('the run stopped: another unit failed'));
      if (!task.identity || !task.cells) throw new ConfigError('queue tasks need the run identity and the units\' cell keys (runExperiment sets them)', { option: '--queue' });
      const mb = (x: number) => (x / 2 ** 20).toFixed(1);
      const tooBig = (what: string) =>
        Promise.reject(
          new ConfigError(
            `the unit's task is ${what} MiB serialised, over the queue's limit of ${mb(maxJobBytes)} MiB per job`,
            { option: '--queue' },
            'run this experiment in worker threads on one machine instead (leave out --queue; --workers N)',
          ),
        );
      // Typed arrays alone already too big: refuse before building the text.
      const atLeast = typedArrayBase64Bytes(task.payloads);
      if (atLeast > maxJobBytes) return tooBig(`at least ${mb(atLeast)}`);
      const data: QueueJobData = {
        format: QUEUE_WIRE_FORMAT,
        identity: { ...task.identity, version: task.identity.version || version },
        experiment: task.experiment,
        backend: o.backend,
        modelOptions: task.modelOptions,
        model: task.model,
        cells: task.cells,
        seeds: task.seeds,
        payloads: encodeForQueue(task.payloads, 'payloads'),
      };
      const bytes = Buffer.byteLength(JSON.stringify(data));
      if (bytes > maxJobBytes) return tooBig(mb(bytes));
      const id = jobIdOf(task);
      return new Promise<O[]>((resolve, reject) => {
        const w: Waiting = { id, task: task as UnitTask<unknown>, data, submitted: false, resolve: (x) => { lastProgress = Date.now(); resolve(x as O[]); }, reject };
        waiting.set(id, w);
        submit(w).catch((e) => fail(w, new QueueError(`could not enqueue job ${id}: ${reasonOf(e)}`, undefined, { cause: e })));
      });
    },
    async close() {
      clearInterval(timer);
      // Every collected result has been written by now (the runner closes its executor after its last flush): drop the jobs.
      for (let i = 0; i < collected.length; i += 1000) await Promise.allSettled(collected.slice(i, i + 1000).map((id) => queue.remove(id)));
      await Promise.allSettled([events.close(), queue.close()]);
      await Promise.all([closeRedis(eConn), closeRedis(qConn)]);
    },
  };
}
