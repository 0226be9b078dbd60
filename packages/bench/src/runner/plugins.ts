/**
 * Plugins: modules that add dataset adapters and experiments to `chainz`.
 *
 * A plugin is an ES module (a package name, or a path to a file or folder)
 * whose default export is a {@link ChainzPlugin}:
 *
 * ```js
 * // my-plugin/index.mjs
 * import { defineAdapter } from '@chainz/data';
 * export default { name: 'my-plugin', adapters: [defineAdapter({ name: 'wine', … })] };
 * ```
 *
 * `chainz` loads plugins named by `--plugin <spec>` (repeatable) and by the
 * `plugins` list of a `chainz.config.{mjs,js,json}` found from the working
 * directory upward (paths there start from the config file's folder).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { ConfigError, isChainzError } from '@chainz/core';
import { registerAdapter, hasAdapter, getAdapter, ADAPTER_SPEC_VERSION, type DatasetAdapter } from '@chainz/data';
import type { Experiment } from './contract';
import { assertExperiment, hasExperiment, getExperiment, registerExperiment, type RegistrySource } from './registry';

/** What a plugin module exports (as its default export, or as named exports `adapters` / `experiments`). */
export interface ChainzPlugin {
  /** Name shown in listings; default: the specifier. */
  name?: string;
  /** Dataset adapters (built with `defineAdapter` from @chainz/data). */
  adapters?: DatasetAdapter<any>[];
  /** Experiments (built with `defineExperiment` from @chainz/bench). */
  experiments?: Experiment<any, any, any, any>[];
}

/** A plugin that was loaded: where from, and what it registered. */
export interface LoadedPlugin {
  /** The specifier as given (`--plugin` value or config entry). */
  spec: string;
  /** The module file's URL (what worker threads import). */
  url: string;
  name: string;
  adapters: string[];
  experiments: string[];
}

/** Where each adapter came from (built-in adapters are absent). */
const ADAPTER_SOURCES = Symbol.for('chainz.bench.adapterSources');
function adapterSources(): Map<string, RegistrySource> {
  const g = globalThis as unknown as Record<symbol, Map<string, RegistrySource> | undefined>;
  return (g[ADAPTER_SOURCES] ??= new Map());
}

/** Where a registered adapter came from: a plugin, or built in. */
export function adapterSource(name: string): RegistrySource {
  return adapterSources().get(name) ?? { kind: 'built-in' };
}

/** A plugin failed to load or registered something invalid: one line naming the plugin and the reason. */
export class PluginError extends ConfigError {
  constructor(
    readonly plugin: string,
    reason: string,
    hint?: string,
  ) {
    super(`plugin '${plugin}': ${reason}`, { option: '--plugin' }, hint);
    this.name = 'PluginError';
  }
}

/**
 * The file URL a plugin specifier names, resolved from `base`: a path
 * (`./x.mjs`, `../plugin`, `/abs/dir`: a folder is resolved through its
 * package.json like a package) or a package name installed where `base` can
 * import it.
 * @throws PluginError when nothing can be found.
 */
export async function resolvePluginSpec(spec: string, base: string): Promise<string> {
  const isPath = spec.startsWith('.') || spec.startsWith('/') || path.isAbsolute(spec) || /^[A-Za-z]:[\\/]/.test(spec) || spec.startsWith('file:');
  if (isPath) {
    const p = spec.startsWith('file:') ? fileURLToPath(spec) : path.resolve(base, spec);
    if (!existsSync(p)) throw new PluginError(spec, `no such file or folder: ${p}`);
    if (!statSync(p).isDirectory()) return pathToFileURL(p).href;
    // A folder: its package.json's entry (exports '.' or main), else index.mjs / index.js.
    const pkg = path.join(p, 'package.json');
    if (existsSync(pkg)) {
      const json = JSON.parse(readFileSync(pkg, 'utf8')) as { exports?: unknown; main?: string; module?: string };
      const entry = entryOf(json);
      if (entry) return pathToFileURL(path.resolve(p, entry)).href;
    }
    for (const f of ['index.mjs', 'index.js']) if (existsSync(path.join(p, f))) return pathToFileURL(path.join(p, f)).href;
    throw new PluginError(spec, `the folder ${p} has no package.json entry and no index.mjs / index.js`);
  }
  const { resolve } = await import('import-meta-resolve');
  try {
    return resolve(spec, pathToFileURL(path.join(base, 'chainz-plugin-resolver.mjs')).href);
  } catch (e) {
    throw new PluginError(spec, `cannot find the package from ${base} (${(e as Error).message.split('\n')[0]})`, `install it (npm install ${spec}) or give a path (./${spec})`);
  }
}

function entryOf(json: { exports?: unknown; main?: string; module?: string }): string | undefined {
  const pick = (x: unknown): string | undefined => {
    if (typeof x === 'string') return x;
    if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      for (const k of ['.', 'import', 'node', 'default']) {
        const v = pick(o[k]);
        if (v) return v;
      }
    }
    return undefined;
  };
  return pick(json.exports) ?? json.module ?? json.main;
}

/** The plugin object of a loaded module: its default export, else its named exports. */
function pluginOf(mod: Record<string, unknown>): ChainzPlugin {
  const d = mod.default as ChainzPlugin | undefined;
  if (d && typeof d === 'object' && ('adapters' in d || 'experiments' in d)) return d;
  return { name: mod.name as string | undefined, adapters: mod.adapters as DatasetAdapter[] | undefined, experiments: mod.experiments as Experiment[] | undefined };
}

function checkAdapter(a: unknown, spec: string, i: number): asserts a is DatasetAdapter<any> {
  const x = a as Partial<DatasetAdapter>;
  const what = `adapters[${i}]${x && typeof x === 'object' && typeof x.name === 'string' ? ` ('${x.name}')` : ''}`;
  if (typeof a !== 'object' || a === null) throw new PluginError(spec, `${what} is not an object`);
  if (x.specificationVersion !== ADAPTER_SPEC_VERSION) throw new PluginError(spec, `${what} has specificationVersion ${String(x.specificationVersion)}, expected ${ADAPTER_SPEC_VERSION}`, 'build adapters with defineAdapter() from @chainz/data');
  if (typeof x.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(x.name)) throw new PluginError(spec, `${what} has an invalid name (lower-case letters, digits and '-')`);
  if (typeof x.load !== 'function' || typeof x.describe !== 'function') throw new PluginError(spec, `${what} needs load() and describe() functions`);
  let d;
  try {
    d = x.describe();
  } catch (e) {
    throw new PluginError(spec, `${what}.describe() threw: ${(e as Error).message}`);
  }
  if (!d || typeof d.title !== 'string' || typeof d.source !== 'string') throw new PluginError(spec, `${what}.describe() must return { name, title, task, source, builtIn }`);
}

/**
 * Import plugin modules and register their adapters and experiments.
 * @param specs specifiers as given (package names or paths).
 * @param base where relative paths and package names are resolved from.
 * @returns what each plugin registered.
 * @throws PluginError naming the plugin and the reason (cannot be found, fails to
 *   load, exports no adapters or experiments, registers an invalid adapter or
 *   experiment, or a name that is already taken).
 */
export async function loadPlugins(specs: readonly string[], base: string): Promise<LoadedPlugin[]> {
  const out: LoadedPlugin[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    const url = await resolvePluginSpec(spec, base);
    if (seen.has(url)) continue;
    seen.add(url);
    out.push(await importPlugin(spec, url));
  }
  return out;
}

let hookRegistered = false;

/**
 * Let plugins without their own copy of `@chainz/*` or `@tensorflow/*` use
 * this process's copies (one registry, one tfjs engine): a resolution hook
 * (node:module `register`) that retries such imports from this package's
 * location. Only in the built package (running from sources, the hook file
 * does not exist and plugins resolve as usual).
 */
async function ensureResolveHook(): Promise<void> {
  if (hookRegistered) return;
  hookRegistered = true;
  const hook = new URL('./resolve-hook.js', import.meta.url);
  if (!existsSync(fileURLToPath(hook))) return;
  const { register } = await import('node:module');
  register(hook.href, { data: { fallbackParent: import.meta.url } });
}

/** Import one plugin module by URL and register what it exports (idempotent for the same objects). */
async function importPlugin(spec: string, url: string): Promise<LoadedPlugin> {
  await ensureResolveHook();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new PluginError(spec, `failed to load ${fileURLToPath(url)}: ${msg}`);
  }
  const plugin = pluginOf(mod);
  const adapters = plugin.adapters ?? [];
  const experiments = plugin.experiments ?? [];
  if (!Array.isArray(adapters) || !Array.isArray(experiments)) throw new PluginError(spec, '`adapters` and `experiments` must be arrays');
  if (adapters.length === 0 && experiments.length === 0) {
    throw new PluginError(spec, 'exports no adapters and no experiments', 'export default { name, adapters: [...] } (see docs/add-a-dataset-adapter.md)');
  }
  const source: RegistrySource = { kind: 'plugin', plugin: spec, file: fileURLToPath(url) };
  adapters.forEach((a, i) => checkAdapter(a, spec, i));
  experiments.forEach((e, i) => {
    try {
      assertExperiment(e, `experiments[${i}]`);
    } catch (err) {
      throw new PluginError(spec, isChainzError(err) ? err.message : String(err));
    }
  });
  for (const a of adapters) {
    if (hasAdapter(a.name) && getAdapter(a.name) !== a) {
      const prev = adapterSource(a.name);
      throw new PluginError(spec, `adapter '${a.name}' is already registered (${prev.kind === 'built-in' ? 'built-in' : `by plugin ${prev.plugin}`})`, 'rename the adapter');
    }
    registerAdapter(a);
    adapterSources().set(a.name, source);
  }
  for (const e of experiments) {
    if (hasExperiment(e.name) && getExperiment(e.name) !== e) throw new PluginError(spec, `experiment '${e.name}' is already registered`, 'rename the experiment');
    registerExperiment(e, { source });
  }
  return { spec, url, name: plugin.name ?? spec, adapters: adapters.map((a) => a.name), experiments: experiments.map((e) => e.name) };
}

/** Import plugin modules by URL (worker threads: the coordinator resolved them already). */
export async function loadPluginModules(urls: readonly string[]): Promise<void> {
  for (const url of urls) await importPlugin(url, url);
}

/** A `chainz.config.*` file and the plugin specifiers it lists (resolved from its folder). */
export interface ChainzConfigFile {
  file: string;
  plugins: string[];
}

/**
 * Find `chainz.config.mjs`, `chainz.config.js` or `chainz.config.json` from
 * `cwd` upward and read its `plugins` (an array of package names or paths).
 * @returns null when there is none.
 * @throws PluginError naming the file when it cannot be read or is malformed.
 */
export async function findChainzConfig(cwd: string): Promise<ChainzConfigFile | null> {
  const { lilconfig } = await import('lilconfig');
  const explorer = lilconfig('chainz', { searchPlaces: ['chainz.config.mjs', 'chainz.config.js', 'chainz.config.json'], stopDir: path.parse(cwd).root });
  let found;
  try {
    found = await explorer.search(cwd);
  } catch (e) {
    throw new PluginError('chainz.config', `cannot read the config file: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!found || found.isEmpty) return null;
  const cfg = (found.config?.default ?? found.config) as { plugins?: unknown };
  if (cfg.plugins === undefined) return { file: found.filepath, plugins: [] };
  if (!Array.isArray(cfg.plugins) || cfg.plugins.some((p) => typeof p !== 'string' || p.trim() === '')) {
    throw new PluginError(found.filepath, '`plugins` must be an array of package names or paths');
  }
  const dir = path.dirname(found.filepath);
  return { file: found.filepath, plugins: cfg.plugins.map((p: string) => (p.startsWith('.') ? path.resolve(dir, p) : p)) };
}
