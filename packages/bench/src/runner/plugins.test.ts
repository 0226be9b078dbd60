import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getAdapter, hasAdapter, registerBuiltinAdapters } from '@chainz/data';
import { adapterSource, findChainzConfig, loadPlugins, PluginError } from './plugins';
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
    writeFileSync(path.join(d, 'clash.mjs'), 'export default { adapters: [{ specificationVersion: 1, name: "pima", load() {}, describe() { return { title: "t", source: "s" }; } }] };\n');
    const clash = await reject(loadPlugins(['./clash.mjs'], d));
    expect(clash!.message).toBe("option --plugin: plugin './clash.mjs': adapter 'pima' is already registered (built-in)");
    expect(clash!.hint).toBe('rename the adapter');
    expect(getAdapter('pima').describe().builtIn).toBe(true); // the built-in is untouched
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
    expect(bad!.message).toMatch(/chainz\.config\.mjs': `plugins` must be an array of package names or paths$/);
    expect(JSON.parse(readFileSync(path.join(root, 'a', 'chainz.config.json'), 'utf8')).plugins).toHaveLength(2);
  });
});
