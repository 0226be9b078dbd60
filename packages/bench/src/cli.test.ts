import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// End-to-end tests of the built CLI (`pnpm test` builds the packages first).
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-cli-'));

/**
 * Run the built CLI in a child process (asynchronously: a blocked test worker
 * misses vitest's heartbeat on a loaded machine).
 */
function chainz(args: string[], cwd = tmp(), env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; cwd: string }> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`pnpm build\` first (pnpm test does)`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, INIT_CWD: cwd, CHAINZ_BACKEND: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += String(c)));
    child.stderr.on('data', (c) => (stderr += String(c)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, cwd });
    });
  });
}

describe('chainz CLI (built)', () => {
  it('--help lists the commands', async () => {
    const r = await chainz(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/bench/);
    expect(r.stdout).toMatch(/datasets/);
  });

  it('bench pima runs in worker threads, prints the table and writes results under the caller directory', async () => {
    const r = await chainz(['bench', 'pima', '--folds', '2', '--models', 'logreg,majority', '--workers', '2', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| logreg +\|/);
    expect(r.stdout).toMatch(/paper: ChainzRule \(protocol not stated\) +\| +85\.71 ± 2\.01/);
    // not a terminal: one progress line per unit on stderr
    expect(r.stderr).toMatch(/\[pima 4\/4\]/);
    const runs = readdirSync(path.join(r.cwd, 'results', 'pima'));
    expect(runs).toHaveLength(1);
    const doc = JSON.parse(readFileSync(path.join(r.cwd, 'results', 'pima', runs[0], 'results.json'), 'utf8'));
    expect(doc.status).toBe('complete');
    expect(doc.environment.backend).toBe('wasm');
    expect(doc.environment.workers).toBe(2);
    expect(doc.units).toHaveLength(4);
  });

  it('a missing --data file is one clear line naming the file, exit 1, nothing written', async () => {
    const r = await chainz(['bench', 'pima', '--data', 'nope.csv', '--no-progress']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^chainz: DataError: .*nope\.csv/m);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(path.join(r.cwd, 'results'))).toBe(false);
  });

  it('a malformed --data file names the row and column', async () => {
    const d = tmp();
    const rows = ['pregnant,glucose,pressure,triceps,insulin,mass,pedigree,age,diabetes', '6,148,72,35,0,33.6,0.627,50,pos', '1,85,abc,29,0,26.6,0.351,31,neg'];
    writeFileSync(path.join(d, 'bad.csv'), rows.join('\n') + '\n');
    const r = await chainz(['bench', 'pima', '--data', 'bad.csv', '--no-progress'], d);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.csv, row 3, column 3/);
  });

  it('bad options: unknown backend, non-integer folds, unknown model', async () => {
    const a = await chainz(['bench', 'pima', '--backend', 'webgl']);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/--backend: unknown backend 'webgl'; expected one of auto, cuda, gpu, webgpu, wasm, cpu, tensorflow/);
    const b = await chainz(['bench', 'pima', '--folds', 'x']);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/^chainz: ConfigError: option --folds: must be an integer from 2 to 1000, got 'x'$/m);
    const c = await chainz(['bench', 'pima', '--models', 'cr,bogus', '--no-progress']);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/option --models: unknown model\(s\) bogus/);
  });

  it('out-of-range counts, negative seeds and empty lists are refused before any work', async () => {
    const cases: [string[], RegExp][] = [
      [['bench', 'pima', '--workers', '0'], /option --workers: must be an integer ≥ 1, got 0/],
      // one limit, this machine's, with its reason (no fixed 256 that disagrees with it)
      [['bench', 'pima', '--workers', '999'], /^chainz: ConfigError: option --workers: 999 is more than this machine can run: at most \d+ \(/m],
      [['bench', 'tabular'], /^chainz: ConfigError: option --dataset: give --dataset NAME \(.*\) or --data FILE\.csv$/m],
      [['bench', 'pima', '--seed', '-1'], /option --seed: must be an integer from 0 to 4294967295, got -1/],
      [['bench', 'pima', '--folds', '1'], /option --folds: must be an integer from 2 to 1000, got 1/],
      [['bench', 'pima', '--models', ''], /option --models: must not be empty/],
      [['bench', 'pima', '--models', ' , '], /option --models: needs at least one name/],
      [['bench', 'sst5', '--seeds', '0'], /option --seeds: must be an integer from 1 to 100, got 0/],
      [['bench', 'cifar10c', '--severities', ' , '], /option --severities: needs at least one severity/],
    ];
    for (const [args, msg] of cases) {
      const r = await chainz(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(existsSync(path.join(r.cwd, 'results')), args.join(' ')).toBe(false);
    }
    const sev = await chainz(['bench', 'cifar10c', '--severities', '6']);
    expect(sev.code).toBe(1);
    expect(sev.stderr).toMatch(/^chainz: ConfigError: option --severities: takes integers 1\.\.5, got '6'/m);
  });

  it('--out naming a file is refused before any work, naming the path', async () => {
    const d = tmp();
    writeFileSync(path.join(d, 'somefile'), 'x');
    for (const experiment of ['pima', 'cifar10c']) {
      const r = await chainz(['bench', experiment, '--out', 'somefile', '--no-progress', '--models', experiment === 'pima' ? 'majority' : 'relu-mlp'], d);
      expect(r.code, experiment).toBe(1);
      expect(r.stderr, experiment).toMatch(/^chainz: ConfigError: option --out: '.*somefile' is a file, not a folder/m);
      const r2 = await chainz(['bench', experiment, '--out', 'somefile/sub', '--no-progress'], d);
      expect(r2.stderr, experiment).toMatch(/lies under '.*somefile', which is a file/);
    }
  });

  it('errors keep their class names in the bundle (not a bundler-renamed _ChainzError)', async () => {
    const r = await chainz(['bench', 'pima', '--resume', 'no-such-dir', '--no-progress']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^chainz: ChainzError: .*no-such-dir: nothing to resume/m);
  });

  it('empty values, --out with --resume, and a cache folder that is a file are refused before any work', async () => {
    const d = tmp();
    writeFileSync(path.join(d, 'afile'), 'x');
    const cases: [string[], RegExp][] = [
      [['bench', 'pima', '--out', ''], /option --out: must not be empty/],
      [['bench', 'pima', '--resume', ' '], /option --resume: must not be empty/],
      [['bench', 'efficiency', '--dataset', 'pima', '--fractions', ''], /option --fractions: must not be empty/],
      [['bench', 'pima', '--out', 'a', '--resume', 'b'], /option --out: give --out for a new run or --resume DIR to continue one, not both/],
      [['bench', 'cifar10c', '--cache-dir', 'afile'], /option --cache-dir: '.*afile' is a file, not a folder/],
      [['bench', 'yelp', '--cache-dir', 'afile/sub'], /option --cache-dir: .*lies under '.*afile', which is a file/],
    ];
    for (const [args, msg] of cases) {
      const r = await chainz(args, d);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
    expect(readdirSync(d)).toEqual(['afile']);
  });

  it('a precomputed embedding file with the wrong row count names --encoder and the count needed', async () => {
    const d = tmp();
    writeFileSync(path.join(d, 'vec.json'), JSON.stringify([[1, 2], [3, 4]]));
    const dataDir = process.env.CHAINZ_DATA_DIR ? path.resolve(process.env.CHAINZ_DATA_DIR) : path.resolve(path.dirname(cli), '../../../../shared/data');
    const r = await chainz(['bench', 'sst5', '--encoder', 'precomputed:vec.json', '--data', path.join(dataDir, 'sst5'), '--no-progress'], d);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^chainz: ConfigError: option --encoder: .*vec\.json: a row-order file needs one row per text of this run \(11855, in the documented order\), but the file has 2 rows/m);
    expect(r.stderr).not.toMatch(/option texts/);
    const t = await chainz(['bench', 'sst5', '--encoder', 'transformers:no-such-model-dir', '--data', path.join(dataDir, 'sst5'), '--no-progress'], d);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/^chainz: ConfigError: option --encoder: model folder not found/m);
    expect(t.stderr).toMatch(/hint: pass --encoder transformers:<local folder/);
    expect(t.stderr).not.toMatch(/allowRemote/);
  });

  it('Ctrl-C after the first saved unit says where the results are and how to resume; the resume completes the run', async () => {
    const d = tmp();
    const out = path.join(d, 'run');
    const child = spawn(process.execPath, [cli, 'bench', 'pima', '--folds', '5', '--models', 'logreg,relu-mlp', '--workers', '1', '--backend', 'wasm', '--out', out, '--no-progress'], { cwd: d, env: { ...process.env, INIT_CWD: d, CHAINZ_BACKEND: '' } });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += String(c)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!existsSync(path.join(out, 'results.json')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    expect(stderr).toContain(`chainz: interrupted. Finished units are saved in ${out}; continue with:\n  chainz bench pima --folds 5 --models logreg,relu-mlp --workers 1 --backend wasm --no-progress --resume ${out}\n`);
    const doc = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(doc.status).toBe('running');
    // the printed command, as printed, continues the run
    const printed = /continue with:\n {2}chainz (.*)\n/.exec(stderr)![1].split(' ');
    const r = await chainz(printed, d);
    expect(r.code, r.stderr).toBe(0);
    const done = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(done.status).toBe('complete');
    expect(done.units).toHaveLength(10);
    expect(done.environment.sessions.length).toBeGreaterThanOrEqual(1);
    // resuming a finished run: one line, no per-unit noise, no file rewritten (with other worker settings too)
    const files = ['results.json', 'summary.md', 'accuracy.svg'];
    const before = files.map((f) => readFileSync(path.join(out, f), 'utf8'));
    const again = await chainz(['bench', 'pima', '--folds', '5', '--models', 'logreg,relu-mlp', '--workers', '2', '--backend', 'wasm', '--resume', out], d);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/\[pima 10\/10\] 10 unit\(s\) resumed from an earlier run \(all complete: nothing left to run\)/);
    expect(again.stderr.match(/resumed from an earlier run/g)).toHaveLength(1);
    expect(JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')).environment.wallSeconds).toBe(done.environment.wallSeconds);
    expect(files.map((f) => readFileSync(path.join(out, f), 'utf8'))).toEqual(before);
  }, 120_000);

  it('relative --out starts from the directory the user ran the command from (INIT_CWD), as --data does', async () => {
    const user = tmp();
    const other = tmp();
    const r = await chainz(['bench', 'pima', '--models', 'majority', '--folds', '2', '--out', 'rel', '--no-progress'], other, { INIT_CWD: user, CHAINZ_BACKEND: 'wasm' });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(user, 'rel', 'results.json'))).toBe(true);
    expect(existsSync(path.join(other, 'rel'))).toBe(false);
  });

  it('datasets lists the built-in adapters', async () => {
    const r = await chainz(['datasets']);
    expect(r.code).toBe(0);
    for (const name of ['csv', 'pima', 'cifar10', 'cifar10c', 'sst5', 'yelp']) expect(r.stdout).toMatch(new RegExp(`^${name} `, 'm'));
  });

  it('--plugin from a folder outside the repository: datasets lists the plugin adapter and its source; bench tabular runs it in worker threads; a broken plugin is one line', async () => {
    const blobs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'runner/__fixtures__/plugins/blobs');
    const ls = await chainz(['datasets', '--plugin', blobs]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(new RegExp(`^test-blobs +Three Gaussian blobs .*\\[plugin ${blobs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(.*index\\.mjs\\)\\]$`, 'm'));
    expect(ls.stdout).toMatch(/^pima +.*\[built-in\]$/m);
    const r = await chainz(['bench', 'tabular', '--dataset', 'test-blobs', '--plugin', blobs, '--folds', '2', '--models', 'logreg,majority', '--workers', '2', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Data: test-blobs: 300 rows, 4 features, 3 classes');
    expect(r.stdout).toMatch(/worker threads \(2\)/);
    const d = tmp();
    writeFileSync(path.join(d, 'broken.mjs'), 'export default {;\n');
    const b = await chainz(['datasets', '--plugin', './broken.mjs'], d);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/^chainz: PluginError: option --plugin: plugin '\.\/broken\.mjs': failed to load .*broken\.mjs:1: Unexpected token/m);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
  }, 120_000);

  it("plugin failures are one line naming the file, plugin or adapter: a plugin adapter's load() error, a syntax error (file:line), a broken or misspelt chainz.config in a parent folder", async () => {
    const d = tmp();
    writeFileSync(
      path.join(d, 'throwsload.mjs'),
      `const describe = () => ({ name: 'boomset', title: 'boom', task: 'classification', modality: 'tabular', source: 'nowhere', builtIn: true });\n` +
        `export default { name: 'throws', adapters: [{ specificationVersion: 1, name: 'boomset', describe, async load() { throw new Error('load exploded'); } }] };\n`,
    );
    const load = await chainz(['bench', 'tabular', '--dataset', 'boomset', '--plugin', './throwsload.mjs', '--folds', '2', '--models', 'majority', '--no-progress'], d);
    expect(load.code).toBe(1);
    expect(load.stderr.trim().split('\n')).toEqual(["chainz: PluginError: plugin './throwsload.mjs', adapter 'boomset': load failed: load exploded"]);

    writeFileSync(path.join(d, 'syntax.mjs'), 'export default {\n  name: "x",\n  adapters: [;\n};\n');
    const syn = await chainz(['datasets', '--plugin', './syntax.mjs'], d);
    expect(syn.stderr.trim().split('\n')).toEqual([`chainz: PluginError: option --plugin: plugin './syntax.mjs': failed to load ${path.join(d, 'syntax.mjs')}:3: Unexpected token ';'`]);

    const root = tmp();
    const sub = path.join(root, 'project', 'sub');
    mkdirSync(sub, { recursive: true });
    const json = path.join(root, 'project', 'chainz.config.json');
    writeFileSync(json, '{ "plugins": ["./a.mjs"');
    const trunc = await chainz(['datasets'], sub);
    expect(trunc.code).toBe(1);
    expect(trunc.stderr.trim().split('\n')).toHaveLength(1);
    expect(trunc.stderr).toMatch(new RegExp(`^chainz: PluginError: config file ${json.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON: `));
    expect(trunc.stderr).not.toContain('--plugin');
    writeFileSync(json, JSON.stringify({ plugin: ['./a.mjs'] }));
    const typo = await chainz(['datasets'], sub);
    expect(typo.code).toBe(1);
    expect(typo.stderr.trim().split('\n')).toEqual([`chainz: PluginError: config file ${json}: unknown key 'plugin' (allowed keys: plugins)`]);
  }, 120_000);

  it('a unit that diverges in a worker thread fails the run with the typed error naming the model and fold (class kept across the thread boundary)', async () => {
    const r = await chainz(['bench', 'pima', '--models', 'cr', '--folds', '2', '--workers', '2', '--backend', 'wasm', '--lambda', '1e308', '--no-progress']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^chainz: NonFiniteError: pima: model cr, repeat 0, fold \d: .*not finite/m);
  }, 120_000);
});

