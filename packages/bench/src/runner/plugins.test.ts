import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError, getAdapter, hasAdapter, registerBuiltinAdapters } from '@chainz/data';
import { pathToFileURL } from 'node:url';
import { adapterSource, findChainzConfig, loadPluginModules, loadPlugins, PluginError, syntaxErrorLocation } from './plugins';
import { defineExperiment } from './contract';
import { getExperiment, experimentSource } from './registry';
import { runExperiment } from './run';
import { tabularExperiment } from '../experiments/tabular';

const here = path.dirname(fileURLToPath(import.meta.url));
const blobs = path.join(here, '__fixtures__', 'plugins', 'blobs');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-plugins-'));
const reject = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as PluginError);

describe('plugins', () => {
  it('a plugin folder (package.json entry) registers its adapter, named with where it came from; a tabular run reads it through the registry', async () => {
    registerBuiltinAdapters();
    const [loaded] = await loadPlugins([blobs], tmp());
    expect(loaded).toMatchObject({ spec: blobs, name: 'test-blobs-plugin', adapters: ['test-blobs'], experiments: [] });
    expect(hasAdapter('test-blobs')).toBe(true);
    expect(adapterSource('test-blobs')).toEqual({ kind: 'plugin', plugin: blobs, file: path.join(blobs, 'index.mjs') });
    expect(adapterSource('pima')).toEqual({ kind: 'built-in' });
    // loading it again is a no-op (same objects)
    await loadPlugins([blobs], tmp());
    const before = tf.memory().numTensors;
    const run = await runExperiment(tabularExperiment, { dataset: 'test-blobs', folds: 3, models: ['logreg', 'majority'], out: path.join(tmp(), 'run'), progress: 'none', workers: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(run.records).toHaveLength(6);
    const logreg = run.records.filter((r) => r.model === 'logreg');
    expect(logreg.reduce((s, r) => s + r.accuracy, 0) / 3).toBeGreaterThan(0.6); // separable blobs (a short Adam schedule); majority = 1/3
    expect(run.report.terminal).toContain('Data: test-blobs: 300 rows, 4 features, 3 classes');
  });

  it('a plugin that cannot be found, fails to load, exports nothing or registers a bad adapter: one PluginError naming it and the reason', async () => {
    const d = tmp();
    const nope = await reject(loadPlugins(['./nope.mjs'], d));
    expect(nope).toBeInstanceOf(PluginError);
    expect(nope!.message).toBe(`option --plugin: plugin './nope.mjs': no such file or folder: ${path.join(d, 'nope.mjs')}`);
    const pkg = await reject(loadPlugins(['chainz-plugin-that-is-not-installed'], d));
    expect(pkg!.message).toMatch(/^option --plugin: plugin 'chainz-plugin-that-is-not-installed': cannot find the package from /);
    expect(pkg!.hint).toBe('install it (npm install chainz-plugin-that-is-not-installed) or give a path (./chainz-plugin-that-is-not-installed)');

    writeFileSync(path.join(d, 'broken.mjs'), 'export default {;\n');
    expect((await reject(loadPlugins(['./broken.mjs'], d)))!.message).toMatch(/^option --plugin: plugin '\.\/broken\.mjs': failed to load .*broken\.mjs: /);
    writeFileSync(path.join(d, 'empty.mjs'), 'export default { name: "empty", adapters: [] };\n');
    expect((await reject(loadPlugins(['./empty.mjs'], d)))!.message).toBe("option --plugin: plugin './empty.mjs': exports no adapters and no experiments");
    writeFileSync(path.join(d, 'v2.mjs'), 'export default { adapters: [{ specificationVersion: 2, name: "x", load() {}, describe() { return {}; } }] };\n');
    expect((await reject(loadPlugins(['./v2.mjs'], d)))!.message).toBe("option --plugin: plugin './v2.mjs': adapters[0] ('x') has specificationVersion 2, expected 1");
    writeFileSync(path.join(d, 'badname.mjs'), 'export default { adapters: [{ specificationVersion: 1, name: "Bad Name", load() {}, describe() { return {}; } }] };\n');
    expect((await reject(loadPlugins(['./badname.mjs'], d)))!.message).toMatch(/adapters\[0\] \('Bad Name'\) has an invalid name/);
    writeFileSync(path.join(d, 'nodescribe.mjs'), 'export default { adapters: [{ specificationVersion: 1, name: "ok-name", load() {}, describe() { return { title: 1 }; } }] };\n');
    expect((await reject(loadPlugins(['./nodescribe.mjs'], d)))!.message).toMatch(/adapters\[0\] \('ok-name'\)\.describe\(\) must return/);
    // a name that is taken by a built-in adapter
    registerBuiltinAdapters();
    writeFileSync(path.join(d, 'clash.mjs'), 'export default { name: "clash", adapters: [{ specificationVersion: 1, name: "pima", load() {}, describe() { return { title: "t", source: "s" }; } }] };\n');
    const clash = await reject(loadPlugins(['./clash.mjs'], d));
    expect(clash!.message).toBe("option --plugin: plugin './clash.mjs': adapter 'pima' is already registered (built-in)");
    expect(clash!.hint).toBe('rename the adapter');
    expect(getAdapter('pima').describe().builtIn).toBe(true); // the built-in is untouched
  });

  it('a default export needs a non-empty string `name`: a missing, empty or non-string one is refused naming the plugin', async () => {
    const d = tmp();
    const adapter = (n: string) => `{ specificationVersion: 1, name: "${n}", load() {}, describe() { return { title: "t", source: "s" }; } }`;
    writeFileSync(path.join(d, 'noname.mjs'), `export default { adapters: [${adapter('noname-set')}] };\n`);
    const noname = await reject(loadPlugins(['./noname.mjs'], d));
    expect(noname).toBeInstanceOf(PluginError);
    expect(noname!.message).toBe("option --plugin: plugin './noname.mjs': the plugin object has no `name`");
    expect(noname!.hint).toMatch(/export default \{ name: 'my-plugin'/);
    expect(hasAdapter('noname-set')).toBe(false); // nothing registered
    writeFileSync(path.join(d, 'emptyname.mjs'), `export default { name: "  ", adapters: [${adapter('emptyname-set')}] };\n`);
    expect((await reject(loadPlugins(['./emptyname.mjs'], d)))!.message).toBe('option --plugin: plugin \'./emptyname.mjs\': the plugin object has an invalid `name` ("  "; a non-empty string is needed)');
    writeFileSync(path.join(d, 'numname.mjs'), `export default { name: 42, adapters: [${adapter('numname-set')}] };\n`);
    expect((await reject(loadPlugins(['./numname.mjs'], d)))!.message).toMatch(/plugin '\.\/numname\.mjs': the plugin object has an invalid `name` \(42;/);
    expect(hasAdapter('emptyname-set') || hasAdapter('numname-set')).toBe(false);
  });

  it("an error thrown by a plugin adapter's load() (not a ChainzError) is a PluginError naming the plugin and the adapter; ChainzErrors pass unchanged; the adapter is otherwise the plugin's", async () => {
    const d = tmp();
    const src = (n: string) =>
      `import { DataError } from '@chainz/core';\nconst describe = () => ({ name: '${n}', title: 'boom', task: 'classification', modality: 'tabular', source: 'nowhere', builtIn: true });\n` +
      `export default { name: 'throws', adapters: [\n  { specificationVersion: 1, name: '${n}', describe, async load() { throw new Error('load exploded\\nsecond line'); } },\n` +
      `  { specificationVersion: 1, name: '${n}-data', describe, async load() { throw new DataError('bad row', { file: '/x/data.csv', row: 3 }); } },\n] };\n`;
    writeFileSync(path.join(d, 'throwsload.mjs'), src('boomset'));
    await loadPlugins(['./throwsload.mjs'], d);
    const e = await reject(getAdapter('boomset').load({}));
    expect(e).toBeInstanceOf(PluginError);
    expect(e!.message).toBe("plugin './throwsload.mjs', adapter 'boomset': load failed: load exploded");
    expect(e).toMatchObject({ name: 'PluginError', code: 'E_CONFIG', plugin: './throwsload.mjs', adapter: 'boomset' });
    const de = await reject(getAdapter('boomset-data').load({}));
    expect(de).toBeInstanceOf(DataError);
    expect(de!.message).toBe('/x/data.csv, row 3: bad row');
    expect(getAdapter('boomset').describe()).toEqual({ name: 'boomset', title: 'boom', task: 'classification', modality: 'tabular', source: 'nowhere', builtIn: true });
    expect(getAdapter('boomset')).toMatchObject({ name: 'boomset', specificationVersion: 1 });
    await loadPlugins(['./throwsload.mjs'], d); // again: a no-op, no "already registered"
    // worker threads (and queue workers' threads) load plugins by URL: same wrapping, the plugin named by its file
    writeFileSync(path.join(d, 'throwsload2.mjs'), src('boomset-two'));
    await loadPluginModules([pathToFileURL(path.join(d, 'throwsload2.mjs')).href]);
    expect((await reject(getAdapter('boomset-two').load({})))!.message).toBe(`plugin '${path.join(d, 'throwsload2.mjs')}', adapter 'boomset-two': load failed: load exploded`);
  });

  it("a SyntaxError's file:line: from the stack's first line when Node puts it there, else from `node --check` on the file (the CLI test checks the whole message)", () => {
    const d = tmp();
    const file = path.join(d, 'syntax.mjs');
    writeFileSync(file, 'export default {\n  name: "x",\n  adapters: [;\n};\n');
    // (vitest imports modules through vite, so a real import's error is vite's, not Node's: the helper is tested directly)
    expect(syntaxErrorLocation(new SyntaxError("Unexpected token ';'"), file)).toBe(`${file}:3`);
    const withStack = new SyntaxError("Unexpected token ';'");
    withStack.stack = `${pathToFileURL(file).href}:7\n  x;\n  ^\n\nSyntaxError: Unexpected token ';'`;
    expect(syntaxErrorLocation(withStack, file)).toBe(`${file}:7`);
    writeFileSync(path.join(d, 'fine.mjs'), 'export default 1;\n');
    expect(syntaxErrorLocation(new SyntaxError('elsewhere'), path.join(d, 'fine.mjs'))).toBeUndefined(); // e.g. a syntax error in a module it imports
    expect(syntaxErrorLocation(new TypeError('x'), file)).toBeUndefined();
  });

  it('a plugin may export experiments (named exports work too)', async () => {
    const d = tmp();
    const src = `export const experiments = [{ specificationVersion: 1, name: 'toy-exp', title: 'a toy', flags: [], modelOptions: () => ({}), models: () => [], plan: async () => { throw new Error('not run'); } }];\n`;
    writeFileSync(path.join(d, 'exp.mjs'), src);
    const [p] = await loadPlugins(['./exp.mjs'], d);
    expect(p.experiments).toEqual(['toy-exp']);
    expect(getExperiment('toy-exp').title).toBe('a toy');
    expect(experimentSource('toy-exp')).toMatchObject({ kind: 'plugin', plugin: './exp.mjs' });
    writeFileSync(path.join(d, 'badexp.mjs'), `export const experiments = [{ specificationVersion: 1, name: 'bad-exp', title: 't', flags: [] }];\n`);
    expect((await reject(loadPlugins(['./badexp.mjs'], d)))!.message).toBe("option --plugin: plugin './badexp.mjs': experiments[0] 'bad-exp' has no modelOptions() function");
    expect(defineExperiment({ name: 'ok', title: 't', flags: [], modelOptions: () => ({}), models: () => [], plan: async () => ({}) as never }).specificationVersion).toBe(1);
  });

  it('chainz.config.{mjs,js,json} is found from the working directory upward; its relative plugin paths start from its folder', async () => {
    const root = tmp();
    const deep = path.join(root, 'a', 'b', 'c');
    mkdirSync(deep, { recursive: true });
    writeFileSync(path.join(root, 'a', 'chainz.config.json'), JSON.stringify({ plugins: ['./plugins/mine.mjs', 'some-package'] }));
    const cfg = await findChainzConfig(deep);
    expect(cfg).toEqual({ file: path.join(root, 'a', 'chainz.config.json'), plugins: [path.join(root, 'a', 'plugins', 'mine.mjs'), 'some-package'] });
    writeFileSync(path.join(root, 'a', 'b', 'chainz.config.mjs'), 'export default { plugins: ["../x.mjs"] };\n');
    expect((await findChainzConfig(deep))!.plugins).toEqual([path.join(root, 'a', 'x.mjs')]);
    // (a new folder: ES modules are cached by file)
    const other = path.join(root, 'other', 'c');
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(root, 'other', 'chainz.config.mjs'), 'export default { plugins: "x" };\n');
    const bad = await reject(findChainzConfig(other));
    expect(bad!.message).toBe(`config file ${path.join(root, 'other', 'chainz.config.mjs')}: \`plugins\` must be an array of package names or paths`);
    expect(JSON.parse(readFileSync(path.join(root, 'a', 'chainz.config.json'), 'utf8')).plugins).toHaveLength(2);
  });

  it('a broken or misspelt chainz.config file: a PluginError naming the file (not --plugin); a plugin it lists that fails names the file too', async () => {
    const root = tmp();
    const deep = path.join(root, 'x', 'y');
    mkdirSync(deep, { recursive: true });
    const json = path.join(root, 'x', 'chainz.config.json');
    writeFileSync(json, '{ "plugins": ["./a.mjs"');
    const trunc = await reject(findChainzConfig(deep));
    expect(trunc).toBeInstanceOf(PluginError);
    expect(trunc!.message).toMatch(new RegExp(`^config file ${json.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON: \\S`));
    expect(trunc!.message).not.toContain('--plugin');
    expect(trunc!.message.split('\n')).toHaveLength(1);
    writeFileSync(json, JSON.stringify({ plugin: ['./a.mjs'] }));
    expect((await reject(findChainzConfig(deep)))!.message).toBe(`config file ${json}: unknown key 'plugin' (allowed keys: plugins)`);
    writeFileSync(json, JSON.stringify({ plugins: [], extra: 1, more: 2 }));
    expect((await reject(findChainzConfig(deep)))!.message).toBe(`config file ${json}: unknown keys 'extra', 'more' (allowed keys: plugins)`);
    writeFileSync(json, '[]');
    expect((await reject(findChainzConfig(deep)))!.message).toBe(`config file ${json}: must be an object ({ "plugins": [...] }), got an array`);
    writeFileSync(json, JSON.stringify({}));
    expect(await findChainzConfig(deep)).toEqual({ file: json, plugins: [] });
    writeFileSync(json, JSON.stringify({ plugins: ['./missing.mjs'] }));
    const cfg = (await findChainzConfig(deep))!;
    const missing = await reject(loadPlugins(cfg.plugins, path.dirname(cfg.file), { configFile: cfg.file }));
    expect(missing!.message).toBe(`config file ${json}: plugin '${path.join(root, 'x', 'missing.mjs')}': no such file or folder: ${path.join(root, 'x', 'missing.mjs')}`);
    // a module config: unknown keys refused too
    const other = path.join(root, 'm', 'n');
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(root, 'm', 'chainz.config.mjs'), 'export default { plugins: [], adapters: [] };\n');
    expect((await reject(findChainzConfig(other)))!.message).toBe(`config file ${path.join(root, 'm', 'chainz.config.mjs')}: unknown key 'adapters' (allowed keys: plugins)`);
  });
});
