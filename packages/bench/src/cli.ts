#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, isChainzError } from '@chainz/core';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };

/**
 * Parser of an integer option; `min`/`max` bound it (inclusive). Commander
 * reports a rejection as `error: option '--x <n>' argument 'v' is invalid. …`.
 */
function int(name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  return (v: string) => {
    if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError(`${name} must be an integer.`);
    const x = Number(v);
    if (x < min || x > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `${name} must be an integer ≥ ${min}.` : `${name} must be an integer from ${min} to ${max}.`);
    }
    return x;
  };
}

/** Parser of a comma-separated list option; an empty list is an error, not "all". */
function list(name: string) {
  return (v: string): string[] => {
    const items = String(v).split(',').map((x) => x.trim()).filter(Boolean);
    if (items.length === 0) throw new InvalidArgumentError(`${name} needs at least one name (leave the option out for all).`);
    return items;
  };
}

/** Seeds are unsigned 32-bit integers (pure-rand). */
const SEED_MAX = 2 ** 32 - 1;

async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('chainz')
    .description('ChainzRule-TS: run the ChainzRule experiments and baselines; results as JSON, Markdown and SVG.')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) });

  // Checks every command shares, before any work: an empty value is a mistake
  // (not "use the default"), --out and --resume exclude each other, and a
  // cache folder must be a folder.
  program.hook('preAction', async (_, action) => {
    const o = action.opts() as Record<string, unknown>;
    // Ctrl-C: every finished unit is already on disk; say how to continue.
    process.once('SIGINT', () => {
      void import('./results').then(({ lastResultsDir }) => {
        const dir = lastResultsDir();
        process.stderr.write(
          dir
            ? `\nchainz: interrupted. Finished units are saved in ${dir}; continue with: chainz bench ${action.name()} --resume ${dir} (and the same options)\n`
            : '\nchainz: interrupted before any result was written.\n',
        );
        process.exit(130);
      });
    });
    for (const opt of action.options) {
      const v = o[opt.attributeName()];
      if (typeof v === 'string' && v.trim() === '') throw new ConfigError('must not be empty (leave the option out for its default)', { option: opt.long ?? opt.flags });
    }
    if (o.out !== undefined && o.resume !== undefined) {
      throw new ConfigError('give --out for a new run or --resume DIR to continue one, not both', { option: '--out' }, 'a resumed run writes into the folder it continues');
    }
    if (typeof o.cacheDir === 'string') {
      const { checkWritableDir } = await import('./results');
      checkWritableDir(path.resolve(process.env.INIT_CWD ?? process.cwd(), o.cacheDir), '--cache-dir');
    }
  });

  const bench = program.command('bench').description('run an experiment');

  bench
    .command('pima')
    .description('Pima Indians Diabetes: ChainzRule + DREG vs baselines under stratified k-fold (the main job)')
    .addOption(new Option('--protocol <name>', 'default = 10-fold × 1; full = 10-fold × 10 repeats').choices(['default', 'full']).default('default'))
    .option('--folds <k>', 'folds of stratified k-fold', int('--folds', 2))
    .option('--repeats <n>', 'repetitions of k-fold', int('--repeats', 1))
    .option('--seed <n>', 'seed for folds, initialisers and batch order', int('--seed', 0, SEED_MAX), 0)
    .option('--data <file>', 'another copy of the Pima CSV (header optional, labels neg/pos or 0/1); default: the embedded copy')
    .option('--models <list>', 'comma-separated subset of: cr, cr-nodreg, relu-mlp, gelu-mlp, logreg, svm-rbf, xgboost, majority', list('--models'))
    .option('--out <dir>', 'results directory (default: ./results/pima/<timestamp>)')
    .option('--resume <dir>', 'continue an interrupted run in <dir> (same options required)')
    .option('--backend <name>', 'tfjs backend: auto, gpu, cuda, webgpu, wasm, cpu, tensorflow (default: $CHAINZ_BACKEND or auto)')
    .option('--lambda <value>', 'DREG λ for cr (default 10^-2.5, the paper\'s); for ablations', (v: string) => {
      const x = Number(v);
      if (!Number.isFinite(x) || x < 0) throw new InvalidArgumentError('--lambda must be a number ≥ 0.');
      return x;
    })
    .option('--workers <n>', 'worker threads (default: min(4, CPU cores))', int('--workers', 1))
    .option('--no-progress', 'no progress output on stderr')
    .action(async (o) => {
      const { useBackend } = await import('./backend');
      const { runPimaBench } = await import('./experiments/pima');
      const be = await useBackend(o.backend);
      const out = await runPimaBench({
        protocol: o.protocol,
        folds: o.folds,
        repeats: o.repeats,
        seed: o.seed,
        data: o.data,
        models: o.models,
        out: o.out,
        resume: o.resume,
        progress: o.progress === false ? 'none' : 'auto',
        backend: be.name,
        backendNotes: be.notes,
        cwd: process.env.INIT_CWD ?? process.cwd(),
        workers: o.workers,
        lambda: o.lambda,
      });
      process.stdout.write(`\n${out.table}\n\n`);
      process.stdout.write(`Results: ${out.dir}/results.json, summary.md (wall time ${out.wallSeconds.toFixed(1)} s, backend ${be.name})\n`);
    });

  const lambdaOpt = (v: string) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new InvalidArgumentError('--lambda must be a number ≥ 0.');
    return x;
  };
  const textOptions = (c: Command) =>
    c
      .option('--encoder <spec>', 'frozen sentence encoder: use-lite (default; USE-lite, not BERT), transformers:<model dir or id>, precomputed:<file .npy|.json|.jsonl>')
      .option('--pooling <mode>', 'pooling for token-level encoders: mean (default) or cls')
      .option('--cache-dir <dir>', 'embedding cache folder (default: $CHAINZ_CACHE_DIR/embeddings or ~/.cache/chainz/embeddings)');
  const runOptions = (c: Command, experiment: string, models: string) =>
    c
      .option('--models <list>', `comma-separated subset of: ${models}`, list('--models'))
      .option('--out <dir>', `results directory (default: ./results/${experiment}/<timestamp>)`)
      .option('--resume <dir>', 'continue an interrupted run in <dir> (same options required)')
      .option('--backend <name>', 'tfjs backend: auto, gpu, cuda, webgpu, wasm, cpu, tensorflow (default: $CHAINZ_BACKEND or auto)')
      .option('--lambda <value>', "DREG λ for cr (default 10^-2.5, the paper's); for ablations", lambdaOpt)
      .option('--workers <n>', 'worker threads (default: min(4, CPU cores))', int('--workers', 1))
      .option('--no-progress', 'no progress output on stderr');
  const common = async (o: Record<string, unknown>) => {
    const { useBackend } = await import('./backend');
    const be = await useBackend(o.backend as string | undefined);
    return {
      be,
      base: {
        models: o.models as string[] | undefined,
        out: o.out as string | undefined,
        resume: o.resume as string | undefined,
        progress: o.progress === false ? ('none' as const) : ('auto' as const),
        backend: be.name,
        backendNotes: be.notes,
        cwd: process.env.INIT_CWD ?? process.cwd(),
        workers: o.workers as number | undefined,
        lambda: o.lambda as number | undefined,
        encoder: o.encoder as string | undefined,
        pooling: o.pooling as string | undefined,
        cacheDir: o.cacheDir as string | undefined,
      },
    };
  };

  runOptions(
    textOptions(
      bench
        .command('sst5')
        .description('SST-5: frozen sentence embeddings → ChainzRule head vs MLP/logistic heads; train, select epoch on dev, test over seeds')
        .option('--data <dir>', 'folder with the SST-5 PTB trees train.txt, dev.txt, test.txt (default: $CHAINZ_DATA_DIR/sst5)')
        .option('--seeds <n>', 'number of seeds (default 5)', int('--seeds', 1))
        .option('--seed <n>', 'base seed', int('--seed', 0, SEED_MAX), 0),
    ),
    'sst5',
    'cr, cr-nodreg, relu-mlp, gelu-mlp, logreg',
  ).action(async (o) => {
    const { runSst5Bench } = await import('./experiments/sst5');
    const { be, base } = await common(o);
    const out = await runSst5Bench({ ...base, data: o.data, seeds: o.seeds, seed: o.seed });
    process.stdout.write(`\n${out.table}\n\n`);
    process.stdout.write(`Results: ${out.dir}/results.json, summary.md (wall time ${out.wallSeconds.toFixed(1)} s, backend ${be.name})\n`);
  });

  runOptions(
    textOptions(
      bench
        .command('yelp')
        .description('Yelp Review Full as ordinal regression on frozen embeddings: accuracy, MAE, QWK (k-fold on the 1000-review sample by default)')
        .option('--yelp-dir <path>', 'official train.csv/test.csv folder (fixed split) or a sample CSV (k-fold); default $CHAINZ_DATA_DIR/yelp')
        .option('--max-rows <n>', 'read only the first n reviews of each file (reduced scale)', int('--max-rows', 1))
        .option('--folds <k>', 'folds of stratified k-fold on a sample (default 5)', int('--folds', 2))
        .option('--repeats <n>', 'repetitions of k-fold on a sample (default 1)', int('--repeats', 1))
        .option('--seeds <n>', 'seeds on the official split (default 3)', int('--seeds', 1))
        .option('--seed <n>', 'base seed', int('--seed', 0, SEED_MAX), 0),
    ),
    'yelp',
    'cr, cr-nodreg, relu-mlp, gelu-mlp, logreg, cr-softmax, logreg-softmax',
  ).action(async (o) => {
    const { runYelpBench } = await import('./experiments/yelp');
    const { be, base } = await common(o);
    const out = await runYelpBench({ ...base, yelpDir: o.yelpDir, maxRows: o.maxRows, folds: o.folds, repeats: o.repeats, seeds: o.seeds, seed: o.seed });
    process.stdout.write(`\n${out.table}\n\n`);
    process.stdout.write(`Results: ${out.dir}/results.json, summary.md (wall time ${out.wallSeconds.toFixed(1)} s, backend ${be.name})\n`);
  });

  runOptions(
    textOptions(
      bench
        .command('efficiency')
        .description('data-efficiency sweep: accuracy and gradient tail ratio τ vs share of training data, per model; SVG plots')
        .addOption(new Option('--dataset <name>', 'dataset').choices(['sst5', 'pima', 'yelp']).default('sst5'))
        .option('--fractions <list>', 'percentages of the training set (default 1,5,10,25,50,100)')
        .option('--seeds <n>', 'seeds per fraction and model (default 3)', int('--seeds', 1))
        .option('--seed <n>', 'base seed', int('--seed', 0, SEED_MAX), 0)
        .option('--data <path>', 'SST-5 trees folder (sst5) or Pima CSV (pima)')
        .option('--yelp-dir <path>', 'Yelp data (yelp): official train/test folder or a sample CSV'),
    ),
    'efficiency-<dataset>',
    'cr, cr-nodreg, relu-mlp, gelu-mlp, silu-mlp, tanh-mlp, logreg',
  ).action(async (o) => {
    const { runEfficiencyBench, parseFractions } = await import('./experiments/efficiency');
    const fractions = o.fractions ? parseFractions(String(o.fractions)) : undefined;
    const { be, base } = await common(o);
    const out = await runEfficiencyBench({ ...base, dataset: o.dataset, fractions, seeds: o.seeds, seed: o.seed, data: o.data, yelpDir: o.yelpDir });
    process.stdout.write(`\n${out.table}\n\n`);
    process.stdout.write(`Results: ${out.dir}/results.json, summary.md, ${out.plots.map((p) => p.split('/').pop()).join(', ')} (wall time ${out.wallSeconds.toFixed(1)} s, backend ${be.name})\n`);
  });

  bench
    .command('perf')
    .description('training-step cost: ChainzRule (fused kernels) vs ReLU, DREG vs input-gradient / random-projection penalties, dense op vs tf.matMul')
    .option('--backend <name>', 'tfjs backend: wasm (default), cpu, webgpu, auto, tensorflow', 'wasm')
    .option('--steps <n>', 'timed interleaved rounds per block', int('--steps', 1), 30)
    .option('--warmup <n>', 'untimed rounds first', int('--warmup', 0), 5)
    .option('--repeats <n>', 'blocks (the ratio range is over blocks)', int('--repeats', 1), 3)
    .option('--chunk-ms <ms>', 'average k consecutive steps per sample, k ≈ ms / step time (default 0: one step)', int('--chunk-ms', 0), 0)
    .addOption(new Option('--clock <clock>', 'time to report: cpu (process CPU time), wall, auto (cpu on wasm/cpu, else wall)').choices(['auto', 'cpu', 'wall']).default('auto'))
    .option('--shapes <list>', 'comma-separated subset of: mlp, pima', list('--shapes'))
    .option('--variants <list>', 'comma-separated subset of the variants (default all)', list('--variants'))
    .option('--no-progress', 'no progress lines on stderr')
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

  bench
    .command('cifar10c')
    .description('CIFAR-10-C: parameter-matched MLPs (ChainzRule + DREG vs GELU, ReLU) and small CNNs, clean and under 15 corruptions × 5 severities, several seeds')
    .option('--seeds <n>', 'number of training seeds (0..n-1)', int('--seeds', 1))
    .option('--models <list>', 'comma-separated subset of: cr-mlp, gelu-mlp, relu-mlp, cr-cnn, relu-cnn', list('--models'))
    .option('--cifar-dir <dir>', 'CIFAR-10 binary batches (official data_batch_*.bin/test_batch.bin, or train_first4000.bin/test_first1000.bin); default $CHAINZ_DATA_DIR/cifar10')
    .option('--cifar10c-dir <dir>', 'official CIFAR-10-C folder (<corruption>.npy, labels.npy); default: regenerate the corruptions with our port')
    .option('--train-size <n>', 'first N training images (default 4000)', int('--train-size', 1))
    .option('--test-size <n>', 'first N test images, clean and corrupted (default 1000)', int('--test-size', 1))
    .option('--corruptions <list>', 'comma-separated subset of the 15 corruptions (default all)', list('--corruptions'))
    .option('--severities <list>', 'comma-separated severities 1..5 (default all)', list('--severities'))
    .option('--corruption-seed <n>', 'seed of the corruption generator (default 0)', int('--corruption-seed', 0, SEED_MAX))
    .option('--cache-dir <dir>', 'cache of regenerated corrupted sets (default <$CHAINZ_CACHE_DIR or ~/.cache/chainz>/cifar10c-generated)')
    .option('--no-cache', 'regenerate the corrupted sets without reading or writing the cache')
    .option('--epochs <n>', 'override the configured epochs (for quick checks; the report records it)', int('--epochs', 1))
    .option('--lambda <value>', "DREG λ for cr-mlp and cr-cnn (default 10^-2.5, the paper's); for ablations", (v: string) => {
      const x = Number(v);
      if (!Number.isFinite(x) || x < 0) throw new InvalidArgumentError('--lambda must be a number ≥ 0.');
      return x;
    })
    .option('--out <dir>', 'results directory (default: ./results/cifar10c/<timestamp>)')
    .option('--resume <dir>', 'continue an interrupted run in <dir> (same options required)')
    .option('--backend <name>', 'tfjs backend: auto, gpu, cuda, webgpu, wasm, cpu, tensorflow (default: $CHAINZ_BACKEND or auto)')
    .option('--workers <n>', 'worker threads (default: min(4, CPU cores))', int('--workers', 1))
    .option('--no-progress', 'no progress output on stderr')
    .action(async (o) => {
      const { useBackend } = await import('./backend');
      const { runCifar10cBench } = await import('./experiments/cifar10c');
      const severities = (o.severities as string[] | undefined)?.map((v) => {
        if (!/^[1-5]$/.test(v)) throw new ConfigError(`takes integers 1..5, got '${v}'`, { option: '--severities' });
        return Number(v) as 1 | 2 | 3 | 4 | 5;
      });
      const be = await useBackend(o.backend);
      const cwd = process.env.INIT_CWD ?? process.cwd();
      const abs = (p: unknown) => (typeof p === 'string' ? path.resolve(cwd, p) : undefined);
      const out = await runCifar10cBench({
        seeds: o.seeds,
        models: o.models,
        cifarDir: abs(o.cifarDir),
        cifar10cDir: abs(o.cifar10cDir),
        trainSize: o.trainSize,
        testSize: o.testSize,
        corruptions: o.corruptions,
        severities,
        corruptionSeed: o.corruptionSeed,
        cacheDir: o.cache === false ? null : abs(o.cacheDir),
        epochs: o.epochs,
        lambda: o.lambda,
        out: abs(o.out),
        resume: abs(o.resume),
        progress: o.progress === false ? 'none' : 'auto',
        backend: be.name,
        backendNotes: be.notes,
        cwd,
        workers: o.workers,
      });
      process.stdout.write(`\nData: ${out.dataDescription}\n\n${out.table}\n\n`);
      process.stdout.write(`Results: ${out.dir}/results.json, summary.md, heatmap.svg (wall time ${out.wallSeconds.toFixed(1)} s, backend ${be.name})\n`);
    });

  program
    .command('datasets')
    .description('list the registered dataset adapters')
    .action(async () => {
      const { listAdapters, registerBuiltinAdapters } = await import('@chainz/data');
      registerBuiltinAdapters();
      for (const a of listAdapters()) {
        const d = a.describe();
        process.stdout.write(`${d.name.padEnd(10)} ${d.title}${d.builtIn ? ' (built in)' : ''}\n${' '.repeat(11)}${d.source}\n`);
      }
    });

  await program.parseAsync(argv);
}

main(process.argv).catch((e: unknown) => {
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
  process.exit(1);
});
