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
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { ConfigError, isChainzError } from '@chainz/core';
import { registerAdapter, hasAdapter, getAdapter, ADAPTER_SPEC_VERSION, type DatasetAdapter } from '@chainz/data';
import type { Experiment } from './contract';
import { assertExperiment, hasExperiment, getExperiment, registerExperiment, type RegistrySource } from './registry';

/**
 * What a plugin module exports as its default export. (A module may instead
 * use named exports `adapters` / `experiments`, with an optional `name`
 * export; the name then defaults to the specifier.)
 */
export interface ChainzPlugin {
  /** Name shown in listings: a non-empty string (required in a default export). */
  name: string;
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

/**
 * Where a {@link PluginError} was found, besides the plugin: the adapter whose
 * `load()` failed, or the config file that listed the plugin (instead of
 * `--plugin`).
 */
export interface PluginErrorScope {
  adapter?: string;
  configFile?: string;
}

/**
 * A plugin failed to load, registered something invalid, or its adapter
 * failed; or a `chainz.config.*` file is malformed. One line naming the
 * plugin (and adapter, or config file) and the reason:
 * - `option --plugin: plugin './x.mjs': <reason>` (a `--plugin` value),
 * - `config file /p/chainz.config.json: plugin '/p/x.mjs': <reason>` (a plugin the config file lists),
 * - `plugin './x.mjs', adapter 'wine': load failed: <reason>` (an adapter's load() threw),
 * - `config file /p/chainz.config.json: <reason>` (the config file itself: `plugin` is null).
 */
export class PluginError extends ConfigError {
  /** The plugin specifier, or the config file's path for an error in the config file itself. */
  readonly plugin: string;
  /** What is wrong, without the plugin / adapter / config file prefix. */
  readonly reason: string;
  readonly adapter?: string;
  readonly configFile?: string;

  constructor(plugin: string | null, reason: string, hint?: string, scope: PluginErrorScope = {}) {
    const config = scope.configFile === undefined ? '' : `config file ${scope.configFile}: `;
    const what = plugin === null ? '' : `plugin '${plugin}'${scope.adapter === undefined ? '' : `, adapter '${scope.adapter}'`}: `;
    super(`${config}${what}${reason}`, plugin !== null && scope.configFile === undefined && scope.adapter === undefined ? { option: '--plugin' } : {}, hint);
    this.name = 'PluginError';
    this.plugin = plugin ?? scope.configFile ?? '';
    this.reason = reason;
    if (scope.adapter !== undefined) this.adapter = scope.adapter;
    if (scope.configFile !== undefined) this.configFile = scope.configFile;
  }
}

/**
 * An error in a `chainz.config.*` file itself: `config file <path>: <reason>`.
 * (A function, not a static method: a class that names itself in its body is
 * renamed `_PluginError` by the bundler, and `withOptionNames` copies take the
 * class's own name.)
 */
function configFileError(file: string, reason: string, hint?: string): PluginError {
  return new PluginError(null, reason, hint, { configFile: file });
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
function pluginOf(mod: Record<string, unknown>): { plugin: Partial<ChainzPlugin>; fromDefault: boolean } {
  const d = mod.default as Partial<ChainzPlugin> | undefined;
  if (d && typeof d === 'object' && ('adapters' in d || 'experiments' in d)) return { plugin: d, fromDefault: true };
  return { plugin: { name: mod.name as string | undefined, adapters: mod.adapters as DatasetAdapter[] | undefined, experiments: mod.experiments as Experiment[] | undefined }, fromDefault: false };
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
export async function loadPlugins(specs: readonly string[], base: string, options: { configFile?: string } = {}): Promise<LoadedPlugin[]> {
  const out: LoadedPlugin[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    try {
      const url = await resolvePluginSpec(spec, base);
      if (seen.has(url)) continue;
      seen.add(url);
      out.push(await importPlugin(spec, url));
    } catch (e) {
      // A plugin the config file lists: name the file, not --plugin.
      if (options.configFile !== undefined && e instanceof PluginError && e.configFile === undefined && e.adapter === undefined) {
        throw new PluginError(e.plugin, e.reason, e.hint, { configFile: options.configFile });
      }
      throw e;
    }
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

/** The first line of an error's message (also for error-like objects from another realm), or the value as text. */
function firstLine(e: unknown): string {
  const m = (e as { message?: unknown } | null)?.message;
  return (typeof m === 'string' ? m : String(e)).split('\n')[0];
}

/**
 * `file:line` of a SyntaxError in a module file, or undefined. Node puts it
 * on the first line of the stack in some versions (`file:///…/x.mjs:3`);
 * otherwise `node --check` on the file reports it (only for a syntax error in
 * the file itself, not in a module it imports).
 */
export function syntaxErrorLocation(e: unknown, file: string): string | undefined {
  if (!(e instanceof SyntaxError) && (e as { name?: unknown } | null)?.name !== 'SyntaxError') return undefined;
  const stack = (e as { stack?: unknown }).stack;
  const at = (first: string | undefined): string | undefined => {
    const m = first?.trim().match(/^(file:\/\/\S+|\/\S+|[A-Za-z]:\\\S+):(\d+)$/);
    if (!m) return undefined;
    const f = m[1].startsWith('file:') ? fileURLToPath(m[1]) : m[1];
    return `${f}:${m[2]}`;
  };
  const fromStack = typeof stack === 'string' ? at(stack.split('\n')[0]) : undefined;
  if (fromStack) return fromStack;
  if (!existsSync(file)) return undefined;
  try {
    const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, NODE_OPTIONS: '' } });
    const loc = at(r.stderr?.split('\n')[0]);
    return loc !== undefined && loc.startsWith(`${file}:`) ? loc : undefined;
  } catch {
    return undefined;
  }
}

/** Original adapter object → the wrapper registered for it (shared by bundled copies, like the registry). */
const ADAPTER_WRAPPERS = Symbol.for('chainz.bench.pluginAdapterWrappers');
function adapterWrappers(): WeakMap<object, DatasetAdapter<any>> {
  const g = globalThis as unknown as Record<symbol, WeakMap<object, DatasetAdapter<any>> | undefined>;
  return (g[ADAPTER_WRAPPERS] ??= new WeakMap());
}

/**
 * The adapter a plugin registers: the plugin's own, except that an error its
 * `load()` throws that is not a ChainzError (a DataError already names its
 * file) becomes a PluginError naming the plugin and the adapter. The same
 * wrapper for the same adapter object (loading a plugin twice is a no-op).
 */
function wrapPluginAdapter(a: DatasetAdapter<any>, spec: string): DatasetAdapter<any> {
  const known = adapterWrappers().get(a);
  if (known) return known;
  const w: DatasetAdapter<any> = {
    ...a,
    specificationVersion: a.specificationVersion,
    name: a.name,
    describe: () => a.describe(),
    load: async (options) => {
      try {
        return await a.load(options);
      } catch (e) {
        if (isChainzError(e)) throw e;
        throw new PluginError(spec, `load failed: ${firstLine(e)}`, undefined, { adapter: a.name });
      }
    },
  };
  adapterWrappers().set(a, w);
  return w;
}

/** Import one plugin module by URL and register what it exports (idempotent for the same objects). */
async function importPlugin(spec: string, url: string): Promise<LoadedPlugin> {
  await ensureResolveHook();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const msg = firstLine(e);
    const file = fileURLToPath(url);
    throw new PluginError(spec, `failed to load ${syntaxErrorLocation(e, file) ?? file}: ${msg}`);
  }
  const { plugin, fromDefault } = pluginOf(mod);
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
  if (fromDefault ? typeof plugin.name !== 'string' || plugin.name.trim() === '' : plugin.name !== undefined && (typeof plugin.name !== 'string' || plugin.name.trim() === '')) {
    const got = plugin.name === undefined ? 'has no `name`' : `has an invalid \`name\` (${JSON.stringify(plugin.name) ?? String(plugin.name)}; a non-empty string is needed)`;
    throw new PluginError(spec, `the plugin object ${got}`, "export default { name: 'my-plugin', adapters: [...], experiments: [...] }");
  }
  for (const a of adapters) {
    const w = wrapPluginAdapter(a, spec);
    const current = hasAdapter(a.name) ? getAdapter(a.name) : undefined;
    if (current !== undefined && current !== w && current !== a) {
      const prev = adapterSource(a.name);
      throw new PluginError(spec, `adapter '${a.name}' is already registered (${prev.kind === 'built-in' ? 'built-in' : `by plugin ${prev.plugin}`})`, 'rename the adapter');
    }
    // (the plugin module may have registered its own adapter object itself: the wrapper takes its place)
    registerAdapter(w, { replace: current === a });
    adapterSources().set(a.name, source);
  }
  for (const e of experiments) {
    if (hasExperiment(e.name) && getExperiment(e.name) !== e) throw new PluginError(spec, `experiment '${e.name}' is already registered`, 'rename the experiment');
    registerExperiment(e, { source });
  }
  return { spec, url, name: plugin.name ?? spec, adapters: adapters.map((a) => a.name), experiments: experiments.map((e) => e.name) };
}

/**
 * Import plugin modules by URL (worker threads: the coordinator resolved them
 * already). Errors name a plugin by its file path (the specifier the user
 * gave stays with the coordinator).
 */
export async function loadPluginModules(urls: readonly string[]): Promise<void> {
  for (const url of urls) await importPlugin(url.startsWith('file:') ? fileURLToPath(url) : url, url);
}

/** A `chainz.config.*` file and the plugin specifiers it lists (resolved from its folder). */
export interface ChainzConfigFile {
  file: string;
  plugins: string[];
}

/** The keys a `chainz.config.*` file may have. */
export const CHAINZ_CONFIG_KEYS: readonly string[] = ['plugins'];

/** lilconfig loaders that name the config file in their errors (and keep a JSON error's position). */
const configLoaders = {
  '.json': (file: string, content: string): unknown => {
    try {
      return JSON.parse(content.replace(/^\uFEFF/, ''));
    } catch (e) {
      throw configFileError(file, `not valid JSON: ${(e as Error).message.split('\n')[0]}`);
    }
  },
  '.mjs': loadConfigModule,
  '.js': loadConfigModule,
};

async function loadConfigModule(file: string): Promise<unknown> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const msg = firstLine(e);
    const at = syntaxErrorLocation(e, file);
    throw configFileError(file, `failed to load${at ? ` (${at})` : ''}: ${msg}`);
  }
  if (mod.default === undefined) throw configFileError(file, 'has no default export', 'export default { plugins: [...] }');
  return mod.default;
}

/**
 * Find `chainz.config.mjs`, `chainz.config.js` or `chainz.config.json` from
 * `cwd` upward and read its `plugins` (an array of package names or paths).
 * @returns null when there is none (or it is empty).
 * @throws PluginError naming the file when it cannot be read, is not valid
 *   JSON / fails to load, is not an object, has a key other than
 *   {@link CHAINZ_CONFIG_KEYS}, or `plugins` is not a list of strings.
 */
export async function findChainzConfig(cwd: string): Promise<ChainzConfigFile | null> {
  const { lilconfig } = await import('lilconfig');
  const explorer = lilconfig('chainz', { searchPlaces: ['chainz.config.mjs', 'chainz.config.js', 'chainz.config.json'], stopDir: path.parse(cwd).root, loaders: configLoaders });
  let found;
  try {
    found = await explorer.search(cwd);
  } catch (e) {
    if (e instanceof PluginError) throw e;
    throw new PluginError(null, `cannot read a chainz.config.{mjs,js,json} file (searching from ${cwd} upward): ${(e as Error).message.split('\n')[0]}`);
  }
  if (!found || found.isEmpty) return null;
  const file = found.filepath;
  const cfg = found.config as unknown;
  const allowed = `allowed keys: ${CHAINZ_CONFIG_KEYS.join(', ')}`;
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    throw configFileError(file, `must be an object ({ "plugins": [...] }), got ${cfg === null ? 'null' : Array.isArray(cfg) ? 'an array' : typeof cfg}`);
  }
  const unknown = Object.keys(cfg).filter((k) => !CHAINZ_CONFIG_KEYS.includes(k));
  if (unknown.length > 0) {
    throw configFileError(file, `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (${allowed})`);
  }
  const plugins = (cfg as { plugins?: unknown }).plugins;
  if (plugins === undefined) return { file, plugins: [] };
  if (!Array.isArray(plugins) || plugins.some((p) => typeof p !== 'string' || p.trim() === '')) {
    throw configFileError(file, '`plugins` must be an array of package names or paths');
  }
  const dir = path.dirname(file);
  return { file, plugins: plugins.map((p: string) => (p.startsWith('.') ? path.resolve(dir, p) : p)) };
}
