/**
 * `runExperiment`: the one loop every experiment runs in.
 *
 * options → checked against the flags → models selected → results folder
 * resolved (before any data is loaded) → plan (data, cells) → fingerprint →
 * results folder created or resumed → pending units → executor → per unit:
 * record, atomic flush of results.json + summary.md, progress → final flush,
 * SVG plots.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ChainzError, ConfigError, isChainzError, type ChainzErrorCode } from '@chainz/core';
import { collectEnvironment, type EnvironmentInfo } from '../env';
import { reserveFolder } from '../io';
import { createProgress, type ProgressMode } from '../progress';
import { checkWritableDir, defaultResultsDir, formatWallTime, ResultsDir, type RunTime } from '../results';
import { writeVegaLiteSvg } from '../plots';
import type { Cell, CellKey, Experiment, ExperimentPlan, ExperimentReport, UnitModel, UnitRecord } from './contract';
import { RUN_FLAGS, validateOptions } from './flags';
import { inProcessExecutor, resolveWorkers, workerBundleAvailable, workerExecutor, type TaskIdentity, type UnitExecutor } from './executor';
import { getExperiment, hasExperiment } from './registry';
import { wrapForTerminal } from './terminal';

/** Options of every run, beside the experiment's own (CLI flags in brackets). */
export interface RunOptions {
  /** Results folder [--out DIR]; default `<cwd>/results/<experiment>/<timestamp>`. */
  out?: string;
  /** Continue an interrupted run in this folder [--resume DIR]; the run's options must match the recorded ones. */
  resume?: string;
  /** Name of the tfjs backend in use (recorded in results.json); default: the active one. */
  backend?: string;
  /** Why other backends were skipped while resolving it (recorded in results.json). */
  backendNotes?: string[];
  /** Worker threads [--workers N]; default min(4, cores) when the package is built, else 1. */
  workers?: number;
  /**
   * Run units on `chainz worker` processes through a BullMQ queue on this
   * Redis server [--queue redis://[user:pass@]host:port[/db] or rediss://…];
   * default: none (worker threads or this thread). See docs/scaling.md.
   */
  queue?: string;
  /** With `queue`: unit tasks kept in the queue at once; default 64. */
  queueDepth?: number;
  /** Progress display; default `auto` (a bar on a terminal, lines otherwise) [--no-progress: none]. */
  progress?: ProgressMode;
  /** Base directory of relative paths and of the default results folder; default `process.cwd()`. */
  cwd?: string;
  /** Run units here instead (a queue, a test double); the runner does not close it. */
  executor?: UnitExecutor;
  /** Plugin module URLs worker threads import before looking the experiment up. */
  plugins?: string[];
  /** `performance.now()` when the command started (wall time counts from here). */
  startedAt?: number;
}

/** What {@link runExperiment} returns. */
export interface ExperimentRun<R extends UnitRecord = UnitRecord> {
  /** The results folder. */
  dir: string;
  /** Every unit's record (resumed and computed). */
  records: R[];
  /** The final report (terminal table, summary, results.json fields). */
  report: ExperimentReport;
  /** Paths of the SVG plots written. */
  plots: string[];
  /** Wall time of the run, seconds, summed over its sessions (`--resume`). */
  wallSeconds: number;
  /** Units computed by this call (fewer than all when resuming). */
  computedUnits: number;
  /** Where units ran (`in-process`, `worker threads (2)`, …). */
  executor: string;
}

/** A unit failed: names the experiment, the model and the cell; `cause` is the original error. */
export class ExperimentUnitError extends ChainzError {
  constructor(
    readonly experiment: string,
    readonly model: string,
    readonly cell: CellKey,
    cause: unknown,
  ) {
    const where = `${experiment}: model ${model}, ${Object.entries(cell).map(([k, v]) => `${k} ${v}`).join(', ')}`;
    const msg = cause instanceof Error ? cause.message : String(cause);
    const code: ChainzErrorCode = isChainzError(cause) ? cause.code : 'E_NUMERIC';
    super(code, `${where}: ${msg}`, {}, isChainzError(cause) ? cause.hint : undefined, { cause });
    this.name = isChainzError(cause) ? cause.name : 'ExperimentUnitError';
  }
}

/** What a run's fingerprint is computed from. */
export interface FingerprintParts {
  /** The plan's key fields. */
  keyFields: readonly string[];
  /** The plan's protocol. */
  protocol: Record<string, unknown>;
  /** The plan's data checksums. */
  dataFingerprint: string;
  /** The run's models as `[name, config]`, in order. */
  models: [string, Record<string, unknown>][];
}

/**
 * The fingerprint of a run: sha256 (hex) of the JSON of its key fields,
 * protocol, data checksums and models' configurations. `--resume` requires
 * the same fingerprint; queue workers recompute it with their own models.
 */
export function experimentFingerprint(p: FingerprintParts): string {
  return createHash('sha256').update(JSON.stringify({ keyFields: p.keyFields, protocol: p.protocol, data: p.dataFingerprint, models: p.models })).digest('hex');
}

/** The folder a run writes to, checked before any work. */
export function resolveResultsDir(opts: { out?: string; resume?: string; cwd?: string }, fallback: string): { dir: string; resume: boolean } {
  const base = opts.cwd ?? process.cwd();
  const dir = opts.resume ? path.resolve(base, opts.resume) : path.resolve(base, opts.out ?? fallback);
  const has = existsSync(path.join(dir, 'results.json'));
  if (opts.resume && !has) throw new ChainzError('E_RESUME', 'nothing to resume: no results.json here', { file: dir });
  if (!opts.resume && has) throw new ChainzError('E_RESUME', 'this directory already holds results; use --resume to continue it or choose another --out', { file: dir });
  if (!opts.resume) checkWritableDir(dir);
  return { dir, resume: Boolean(opts.resume) };
}

/**
 * Keep the models named in `names` (all when none), in the experiment's order.
 * @throws ConfigError (option `--models`) naming unknown models and the valid ones.
 */
export function selectModels<M extends { name: string }>(all: M[], names: readonly string[] | undefined): M[] {
  if (!names || names.length === 0) return all;
  const unknown = names.filter((m) => !all.some((x) => x.name === m));
  if (unknown.length > 0) throw new ConfigError(`unknown model(s) ${unknown.join(', ')}; choose from ${all.map((m) => m.name).join(', ')}`, { option: '--models' });
  return all.filter((m) => names.includes(m.name));
}

/** The summary.md line giving backend, versions, CPU, wall time and commit. */
export function environmentLine(env: EnvironmentInfo, time: RunTime): string {
  return `Backend: ${env.backend}; Node ${env.node}; tfjs ${env.tfjs}; ${env.cpus} × ${env.cpuModel}; wall time ${formatWallTime(time)} (whole command); git ${env.gitCommit ?? 'unknown'}.`;
}

/** The folder and identity name of a run (an experiment may add a suffix, e.g. the data set). */
function runNameOf(experiment: Experiment<any, any, any, any>, options: object): string {
  return experiment.runName?.(options) ?? experiment.name;
}

interface Pending<P> {
  cell: number;
  model: UnitModel<P, unknown>;
}

/**
 * Run an experiment: every selected model on every cell of its plan, with
 * per-unit atomic flushes of results.json and summary.md, `--resume`, worker
 * threads and progress; SVG plots when complete.
 *
 * @param experiment the experiment (registered or not; worker threads need it registered).
 * @param options its options (the values of its flags) and the run options.
 * @throws ConfigError naming the flag at fault; DataError naming the file; ChainzError
 *   E_RESUME for a folder that holds other results (or nothing to resume);
 *   {@link ExperimentUnitError} naming the model and cell when a unit fails (units
 *   finished before it stay in results.json; `--resume` continues).
 */
export async function runExperiment<Opts extends object, P, O, R extends UnitRecord>(
  experiment: Experiment<Opts, P, O, R>,
  options: Opts & RunOptions,
): Promise<ExperimentRun<R>> {
  const startedAt = options.startedAt ?? performance.now();
  const cwd = options.cwd ?? process.cwd();
  const opts = validateOptions([...experiment.flags, ...Object.values(RUN_FLAGS)], options, cwd) as Opts & RunOptions;
  const modelOptions = experiment.modelOptions(opts);
  const models = selectModels(experiment.models(modelOptions), (opts as { models?: string[] }).models);
  const runName = runNameOf(experiment, opts);
  const results = resolveResultsDir({ ...opts, cwd }, defaultResultsDir(cwd, runName));
  // A queue: the URL is checked and Redis reached before any data is loaded.
  const queueModule = opts.queue !== undefined && !options.executor ? await import('./queue') : undefined;
  const queueTarget = queueModule?.parseQueueUrl(opts.queue!);
  if (queueModule && queueTarget) {
    if (!(hasExperiment(experiment.name) && getExperiment(experiment.name) === experiment)) {
      throw new ConfigError(`experiment '${experiment.name}' is not registered, so queue workers cannot build its models`, { option: '--queue' }, 'register it with registerExperiment() (or load it as a plugin, on the workers too)');
    }
    await queueModule.checkRedisReachable(queueTarget);
  }
  const backend = opts.backend ?? (await import('@tensorflow/tfjs-core')).getBackend();
  const progress = createProgress(opts.progress ?? 'auto');

  const workers = resolveWorkers(opts.workers);
  const plan: ExperimentPlan<P, O, R> = await experiment.plan(opts, { cwd, progress, log: (m) => progress.log(m), workers });
  try {
    const keyFields = plan.keyFields;
    const fingerprint = experimentFingerprint({ keyFields, protocol: plan.protocol, dataFingerprint: plan.dataFingerprint, models: models.map((m) => [m.name, m.config]) });
    const identity = { experiment: runName, fingerprint };
    const taskIdentity: TaskIdentity = {
      fingerprint,
      keyFields: [...keyFields],
      protocol: plan.protocol,
      dataFingerprint: plan.dataFingerprint,
      models: models.map((m) => m.name),
      version: queueModule?.benchVersion() ?? '',
    };
    const storeOptions = { startedAt, keyFields: [...keyFields] };
    // The default folder is named by the second the run started: two runs started in the same second get -2, -3…
    if (!results.resume && opts.out === undefined) results.dir = await reserveFolder(results.dir);
    const store = results.resume ? await ResultsDir.resume(results.dir, identity, storeOptions) : await ResultsDir.create(results.dir, identity, storeOptions);

    // Units: cells × models (cell-major, so a cell's payload is built once and dropped when its last unit is done).
    const pending: Pending<P>[] = [];
    const remaining = new Map<number, number>();
    let resumed = 0;
    plan.cells.forEach((cell, ci) => {
      for (const m of models) {
        if (cell.models && !cell.models.includes(m.name)) continue;
        if (store.has({ model: m.name, ...cell.key })) resumed++;
        else {
          pending.push({ cell: ci, model: m });
          remaining.set(ci, (remaining.get(ci) ?? 0) + 1);
        }
      }
    });
    const total = pending.length + resumed;
    const cost = (m: string) => plan.cost?.(m) ?? 1;
    if (plan.cost) pending.sort((a, b) => cost(b.model.name) - cost(a.model.name) || a.cell - b.cell);

    // Executor: given, worker threads (built package, registered experiment), or this thread.
    let executor = options.executor;
    let ownExecutor = false;
    if (!executor && queueModule && queueTarget) {
      // Queue notices (lost connection, re-enqueued jobs, no worker) are warnings: printed even without progress output.
      const log = opts.progress === 'none' ? (m: string) => void process.stderr.write(`${m}\n`) : (m: string) => progress.log(m);
      executor = await queueModule.queueExecutor({ target: queueTarget, backend, depth: opts.queueDepth, log });
      ownExecutor = true;
    } else if (!executor) {
      const n = Math.min(workers, Math.max(1, pending.length));
      const registered = hasExperiment(experiment.name) && getExperiment(experiment.name) === experiment;
      if (n > 1 && registered && workerBundleAvailable()) executor = await workerExecutor(n, backend, options.plugins ?? []);
      else if (opts.workers !== undefined && opts.workers > 1 && !registered) {
        throw new ConfigError(`experiment '${experiment.name}' is not registered, so worker threads cannot build its models`, { option: '--workers' }, 'register it with registerExperiment(), or use --workers 1');
      } else executor = inProcessExecutor(experiment);
      ownExecutor = true;
    }
    const environment = { ...collectEnvironment(backend, opts.backendNotes), workers: executor.concurrency, executor: executor.kind };

    const plots: string[] = [];
    const flush = async (status: 'running' | 'complete') => {
      const records = store.all<R>();
      const report = plan.report(records, status, { models });
      const doc = {
        status,
        protocol: plan.protocol,
        data: plan.data,
        models: models.map((m) => ({ name: m.name, description: m.description, config: m.config })),
        ...report.doc,
        environment,
      };
      const time = await store.flush(doc, (t) => summaryMarkdown(runName, status, report, environment, t));
      return { records, report, time };
    };

    // Payloads: built once per cell, shared by its models, dropped after its last unit.
    const payloads = new Map<number, Promise<P>>();
    const payloadOf = (ci: number) => {
      let p = payloads.get(ci);
      if (!p) {
        p = Promise.resolve(plan.cells[ci].payload());
        payloads.set(ci, p);
      }
      return p;
    };
    const done = (ci: number) => {
      const left = (remaining.get(ci) ?? 1) - 1;
      remaining.set(ci, left);
      if (left <= 0) payloads.delete(ci);
    };

    // Tasks: one unit each, or, for models that can run several units at once, batches of one model's units.
    // On a queue every unit is its own job: job ids then name single units, so a
    // resumed run finds each finished one whatever else is left to do.
    const tasks = executor.kind.startsWith('queue ') ? pending.map((u) => [u]) : batchTasks(pending, executor.concurrency, plan.cells);
    let computed = 0;
    let failure: unknown;
    let flushing: Promise<unknown> = Promise.resolve();
    // A flush not started yet: tasks finishing meanwhile share it (with many
    // units in flight, e.g. on a queue, one write covers all that arrived
    // during the previous one). Each task still waits for a flush that
    // includes its records before it takes the next.
    let nextFlush: Promise<unknown> | undefined;
    const requestFlush = () =>
      (nextFlush ??= flushing = flushing.then(() => {
        nextFlush = undefined;
        return flush('running');
      }));
    progress.start(total, runName);
    progress.skip(resumed, 'resumed from an earlier run');
    try {
      let next = 0;
      const loop = async () => {
        while (next < tasks.length && failure === undefined) {
          const task = tasks[next++];
          const cells = task.map((u) => plan.cells[u.cell]);
          const model = task[0].model;
          let outputs: O[];
          let ps: P[];
          try {
            ps = await Promise.all(task.map((u) => payloadOf(u.cell)));
            outputs = await executor!.run<P, O>({
              experiment: experiment.name,
              modelOptions,
              model: model.name,
              payloads: ps,
              seeds: cells.map((c) => c.seed),
              cells: cells.map((c) => c.key),
              identity: taskIdentity,
            });
          } catch (e) {
            failure ??= new ExperimentUnitError(runName, model.name, cells[0].key, e);
            return;
          }
          for (let i = 0; i < task.length; i++) {
            const cell = cells[i] as Cell<P>;
            let rec: R;
            try {
              rec = { model: model.name, ...cell.key, ...plan.record(outputs[i], ps[i], cell, model.name) } as unknown as R;
            } catch (e) {
              failure ??= new ExperimentUnitError(runName, model.name, cell.key, e);
              return;
            }
            store.add(rec);
            computed++;
            done(task[i].cell);
            progress.tick(plan.describe?.(rec) ?? describeRecord(rec, keyFields));
          }
          await requestFlush();
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, executor.concurrency) }, loop));
    } finally {
      progress.stop();
      if (ownExecutor) await executor.close();
    }
    if (failure !== undefined) {
      await store.close();
      throw failure;
    }
    // Resuming a finished run computes nothing and rewrites nothing: its files stay as they are.
    const unchanged = results.resume && computed === 0 && store.previousStatus === 'complete';
    const final = unchanged
      ? { records: store.all<R>(), report: plan.report(store.all<R>(), 'complete', { models }), time: store.time() }
      : await flush('complete');
    await store.close();
    for (const p of final.report.plots ?? []) {
      const file = path.join(results.dir, p.file);
      if (!unchanged || !existsSync(file)) await writeVegaLiteSvg(file, p.spec);
      plots.push(file);
    }
    const report = { ...final.report, terminal: wrapForTerminal(final.report.terminal) };
    return { dir: results.dir, records: final.records, report, plots, wallSeconds: final.time.wallSeconds, computedUnits: computed, executor: executor.kind };
  } finally {
    await plan.dispose?.();
  }
}

/**
 * Group pending units into tasks: single units, except for models with
 * `runBatch`, whose units are split into `concurrency` batches (so every
 * worker gets work).
 */
function batchTasks<P>(pending: Pending<P>[], concurrency: number, cells: readonly Cell<P>[]): Pending<P>[][] {
  const tasks: Pending<P>[][] = [];
  // One batch list per (model, batch group): cells of different groups (e.g. data sets) never share a batch.
  const byModel = new Map<UnitModel<P, unknown>, Map<string, Pending<P>[]>>();
  for (const u of pending) {
    if (!u.model.runBatch) tasks.push([u]);
    else {
      const group = cells[u.cell].batchGroup ?? '';
      let groups = byModel.get(u.model);
      if (!groups) byModel.set(u.model, (groups = new Map()));
      let list = groups.get(group);
      if (!list) {
        list = [];
        groups.set(group, list);
        tasks.push(list); // placeholder in order of first appearance, filled below
      }
      list.push(u);
    }
  }
  const out: Pending<P>[][] = [];
  for (const t of tasks) {
    if (t.length === 0 || !t[0].model.runBatch) {
      out.push(t);
      continue;
    }
    const size = Math.ceil(t.length / Math.max(1, concurrency));
    for (let i = 0; i < t.length; i += size) out.push(t.slice(i, i + size));
  }
  return out;
}

function describeRecord(r: UnitRecord, keyFields: readonly string[]): string {
  const where = keyFields.map((k) => `${k} ${String(r[k])}`).join(' ');
  const acc = typeof r.accuracy === 'number' ? `: acc ${(100 * r.accuracy).toFixed(2)}%` : '';
  const tau = typeof r.tau === 'number' ? ` τ ${r.tau.toFixed(3)}` : '';
  const t = typeof r.trainSeconds === 'number' ? ` (${r.trainSeconds.toFixed(1)} s)` : '';
  return `${r.model} ${where}${acc}${tau}${t}`;
}

function summaryMarkdown(name: string, status: string, report: ExperimentReport, env: EnvironmentInfo, time: RunTime): string {
  const plots = status === 'complete' ? (report.plots ?? []).map((p) => `![${p.file}](${p.file})`) : [];
  return [
    `# ${name}: results${status === 'complete' ? '' : ' (partial, run in progress or interrupted)'}`,
    '',
    report.markdown.trimEnd(),
    '',
    ...(plots.length > 0 ? [...plots, ''] : []),
    environmentLine(env, time),
    '',
  ].join('\n');
}
