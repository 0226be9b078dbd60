#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, isChainzError } from '@chainz/core';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Experiment } from './runner/contract';
import { lastResultsDir } from './results';
import { parseFlagValue, RUN_FLAGS, type FlagSpec } from './runner/flags';
import { resumeCommand } from './resume-command';

const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };

/** The user's directory (pnpm sets INIT_CWD when `pnpm chainz` runs from a subfolder). */
const userCwd = () => process.env.INIT_CWD ?? process.cwd();

/** `--plugin X` / `--plugin=X` values, read before commander so plugins can add commands. */
function pluginArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === '--plugin') {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new ConfigError('needs a package name or a path', { option: '--plugin' });
      if (v.trim() === '') throw new ConfigError('must not be empty', { option: '--plugin' });
      out.push(v);
      i++;
    } else if (a.startsWith('--plugin=')) {
      const v = a.slice('--plugin='.length);
      if (v.trim() === '') throw new ConfigError('must not be empty', { option: '--plugin' });
      out.push(v);
    }
  }
  return out;
}

/** A commander option for a flag spec; values are parsed (and rejected) by {@link parseFlagValue}. */
function toOption(spec: FlagSpec): Option {
  const o = new Option(spec.flag, spec.description);
  if (spec.kind === 'boolean' || spec.kind === 'negatable') return o;
  if (spec.repeatable) o.argParser((v: string, prev: unknown) => [...((prev as unknown[] | undefined) ?? []), parseFlagValue(spec, v)]);
  else o.argParser((v: string) => parseFlagValue(spec, v));
  if (spec.default !== undefined) o.default(spec.default);
  return o;
}

/** Options an experiment receives from its command's parsed flags. */
function optionsOf(experiment: Experiment<any, any, any, any>, raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of [...experiment.flags, ...Object.values(RUN_FLAGS)]) {
    const v = raw[spec.key];
    if (v === undefined) continue;
    out[spec.key] = v;
  }
  out.progress = raw.progress === false ? 'none' : 'auto';
  return out;
}

async function main(argv: string[]): Promise<void> {
  const startedAt = performance.now();
  const [{ registerBuiltinExperiments }, { listExperiments, describeSource }, { loadPlugins, findChainzConfig, adapterSource }, { registerBuiltinAdapters }] = await Promise.all([
    import('./experiments'),
    import('./runner/registry'),
    import('./runner/plugins'),
    import('@chainz/data'),
  ]);
  registerBuiltinAdapters();
  registerBuiltinExperiments();
  // Plugins: --plugin values (from the user's directory), then a chainz.config.* found upward.
  const cwd = userCwd();
  const config = await findChainzConfig(cwd);
  const plugins = [...(await loadPlugins(pluginArgs(argv.slice(2)), cwd)), ...(config ? await loadPlugins(config.plugins, path.dirname(config.file), { configFile: config.file }) : [])];
  const pluginUrls = plugins.map((p) => p.url);

  const program = new Command();
  program
    .name('chainz')
    .description('ChainzRule-TS: run the ChainzRule experiments and baselines; results as JSON, Markdown and SVG.')
    .version(version)
    .option('--plugin <spec>', 'load a plugin (package name or path) that adds data sets or experiments; repeatable. Also read: chainz.config.{mjs,js,json} from here upward')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) });

  // Checks every command shares, before any work: --out and --resume exclude each other, and a cache folder must be a folder.
  program.hook('preAction', async (_, action) => {
    const o = action.opts() as Record<string, unknown>;
    // Ctrl-C: every finished unit is already on disk; say how to continue. (`chainz worker` handles its own signals.)
    if (action.name() !== 'worker') process.once('SIGINT', () => {
      // Synchronous: print and exit at once (no await between the signal and the exit).
      const dir = lastResultsDir();
      process.stderr.write(
        dir
          ? `\nchainz: interrupted. Finished units are saved in ${dir}; continue with:\n  ${resumeCommand(argv.slice(2), dir)}\n`
          : '\nchainz: interrupted before any result was written.\n',
      );
      process.exit(130);
    });
    if (o.out !== undefined && o.resume !== undefined) {
      throw new ConfigError('give --out for a new run or --resume DIR to continue one, not both', { option: '--out' }, 'a resumed run writes into the folder it continues');
    }
    if (typeof o.cacheDir === 'string') {
      const { checkWritableDir } = await import('./results');
      checkWritableDir(path.resolve(cwd, o.cacheDir), '--cache-dir');
    }
  });

  const bench = program.command('bench').description('run an experiment (chainz experiments lists them)');
  for (const { experiment } of listExperiments()) {
    const cmd = bench.command(experiment.name).description(experiment.title);
    for (const spec of [...experiment.flags, ...Object.values(RUN_FLAGS)]) cmd.addOption(toOption(spec));
    cmd.action(async (raw: Record<string, unknown>) => {
      const [{ useBackend }, { runExperiment }] = await Promise.all([import('./backend'), import('./runner/run')]);
      const be = await useBackend(raw.backend as string | undefined);
      const run = await runExperiment(experiment, { ...optionsOf(experiment, raw), backend: be.name, backendNotes: be.notes, cwd, plugins: pluginUrls, startedAt });
      process.stdout.write(`\n${run.report.terminal}\n\n`);
      const files = ['results.json', 'summary.md', ...run.plots.map((p) => path.basename(p))];
      process.stdout.write(`Results: ${run.dir}/ (${files.join(', ')}; wall time ${run.wallSeconds.toFixed(1)} s, backend ${be.name}, ${run.executor})\n`);
    });
  }

  bench
    .command('perf')
    .description('training-step cost: ChainzRule (fused kernels) vs ReLU, DREG vs input-gradient / random-projection penalties, dense op vs tf.matMul')
    .addOption(toOption({ ...RUN_FLAGS.backend, description: 'tfjs backend: wasm (default), cpu, webgpu, auto, tensorflow', default: 'wasm' }))
    .addOption(toOption({ key: 'steps', flag: '--steps <n>', description: 'timed interleaved rounds per block', kind: 'int', min: 1, max: 100000, default: 30 }))
    .addOption(toOption({ key: 'warmup', flag: '--warmup <n>', description: 'untimed rounds first', kind: 'int', min: 0, max: 100000, default: 5 }))
    .addOption(toOption({ key: 'repeats', flag: '--repeats <n>', description: 'blocks (the ratio range is over blocks)', kind: 'int', min: 1, max: 1000, default: 3 }))
    .addOption(toOption({ key: 'chunkMs', flag: '--chunk-ms <ms>', description: 'average k consecutive steps per sample, k ≈ ms / step time (default 0: one step)', kind: 'int', min: 0, max: 60000, default: 0 }))
    .addOption(toOption({ key: 'clock', flag: '--clock <clock>', description: 'time to report: cpu (process CPU time), wall, auto (cpu on wasm/cpu, else wall)', kind: 'choice', choices: ['auto', 'cpu', 'wall'], default: 'auto' }))
    .addOption(toOption({ key: 'shapes', flag: '--shapes <list>', description: 'comma-separated subset of: mlp, pima', kind: 'list' }))
    .addOption(toOption({ key: 'variants', flag: '--variants <list>', description: 'comma-separated subset of the variants (default all)', kind: 'list' }))
    .addOption(toOption(RUN_FLAGS.progress))
    .action(async (o) => {
      const { useBackend } = await import('./backend');
      const { runPerfBench, renderPerfTables, PERF_SHAPES } = await import('./perf/perf');
      const be = await useBackend(o.backend);
      const wanted = o.shapes as string[] | undefined;
      const shapes = wanted ? PERF_SHAPES.filter((s) => wanted.some((w) => s.name.startsWith(w))) : undefined;
      if (wanted && shapes!.length !== wanted.length) throw new ConfigError(`unknown shape(s) in ${wanted.join(',')}; choose from mlp, pima`, { option: '--shapes' });
      const report = await runPerfBench({
        steps: o.steps,
        warmup: o.warmup,
        repeats: o.repeats,
        chunkMs: o.chunkMs,
        clock: o.clock,
        shapes,
        variants: o.variants,
        backend: be.name,
        backendNotes: be.notes,
        log: o.progress === false ? undefined : (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${renderPerfTables(report)}\n\n${JSON.stringify(report)}\n`);
    });

  program
    .command('worker')
    .description('run units of `chainz bench … --queue URL` runs: take jobs from a BullMQ queue on Redis (start any number, on any machine; see docs/scaling.md)')
    .addOption(toOption({ ...RUN_FLAGS.queue, description: 'Redis to take units from: redis://[user:pass@]host:port[/db] or rediss://… (TLS)' }))
    .addOption(toOption({ ...RUN_FLAGS.backend, description: "tfjs backend: auto, gpu, cuda, webgpu, wasm, cpu, tensorflow; units of runs on another backend are refused (default: each unit on its run's backend)" }))
    .addOption(toOption({ key: 'concurrency', flag: '--concurrency <n>', description: 'units at once, one worker thread each (default: min(4, CPU cores); at most 2 × CPU cores, fewer when free memory is short)', kind: 'int', min: 1 }))
    .addOption(
      toOption({
        key: 'lockDuration',
        flag: '--lock-duration <ms>',
        description: 'job lock, renewed every half of it while a unit runs; a dead worker\'s unit is taken back after about 1.5 × this',
        kind: 'int',
        min: 500,
        max: 3_600_000,
        default: 30_000,
      }),
    )
    .action(async (o: { queue?: string; backend?: string; concurrency?: number; lockDuration: number }) => {
      if (o.queue === undefined) throw new ConfigError('is required: the Redis URL the coordinator uses (redis://host:port)', { option: '--queue' });
      const [{ useBackend }, { runQueueWorker }] = await Promise.all([import('./backend'), import('./runner/queue-worker')]);
      // --backend: check and resolve it (auto → the backend found); without it, units run on their run's backend.
      const be = o.backend === undefined ? undefined : await useBackend(o.backend);
      // First Ctrl-C / SIGTERM: finish the units in progress, then exit; a second one exits at once (its units are retried by other workers).
      let signalled = false;
      let stop!: () => void;
      const stopping = new Promise<void>((resolve) => (stop = resolve));
      const onSignal = () => {
        if (signalled) process.exit(130);
        signalled = true;
        process.stderr.write('chainz worker: stopping after the units in progress (signal again to stop at once; other workers then retry them)\n');
        stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const w = await runQueueWorker({ url: o.queue, backend: be?.name, plugins: pluginUrls, concurrency: o.concurrency, lockDuration: o.lockDuration, stop: stopping });
      await w.closed;
    });

  program
    .command('datasets')
    .description('list the registered dataset adapters (built in and from plugins) and where each came from')
    .action(async () => {
      const { listAdapters } = await import('@chainz/data');
      const rows = listAdapters().map((a) => ({ d: a.describe(), src: adapterSource(a.name) }));
      const w = Math.max(10, ...rows.map((r) => r.d.name.length + 1));
      for (const { d, src } of rows) {
        process.stdout.write(`${d.name.padEnd(w)} ${d.title} [${describeSource(src)}]\n${' '.repeat(w + 1)}${d.source}\n`);
      }
    });

  program
    .command('experiments')
    .description('list the registered experiments (built in and from plugins) and where each came from')
    .action(() => {
      const rows = listExperiments();
      const w = Math.max(12, ...rows.map((r) => r.experiment.name.length + 1));
      for (const { experiment, source } of rows) process.stdout.write(`${experiment.name.padEnd(w)} ${experiment.title} [${describeSource(source)}]\n`);
    });

  await program.parseAsync(argv);
}

/** Keep the output to our own lines: tfjs's "running TensorFlow.js in Node.js" banner and other library notices are off unless CHAINZ_DEBUG is set. */
async function quietLibraries(): Promise<void> {
  if (process.env.CHAINZ_DEBUG) return;
  const tf = await import('@tensorflow/tfjs-core');
  tf.env().set('PROD', true);
}

quietLibraries()
  .then(() => main(process.argv))
  .catch((e: unknown) => {
    // One clear line (plus a hint), never a stack dump of minified wasm glue code.
    if (isChainzError(e)) {
      process.stderr.write(`chainz: ${e.name}: ${e.message}\n`);
      if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    } else {
      const msg = e instanceof Error ? e.message.split('\n')[0].slice(0, 500) : String(e).slice(0, 500);
      process.stderr.write(`chainz: error: ${msg}\n`);
      if (process.env.CHAINZ_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      else process.stderr.write('(set CHAINZ_DEBUG=1 for the stack trace)\n');
    }
    if (process.env.CHAINZ_DEBUG && isChainzError(e) && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  });

