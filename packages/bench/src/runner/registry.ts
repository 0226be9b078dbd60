/**
 * Registry of experiments (`chainz bench <name>`), kept on `globalThis` so
 * that two bundled copies of this package — the CLI and a plugin's own import
 * — share it. Each entry records where it came from (built in, or the plugin
 * that registered it) for listings.
 */
import { ConfigError } from '@chainz/core';
import { assertExperimentName, EXPERIMENT_SPEC_VERSION, type Experiment } from './contract';

/** Where a registered experiment or adapter came from. */
export interface RegistrySource {
  /** `built-in`, or `plugin`. */
  kind: 'built-in' | 'plugin';
  /** For plugins: the specifier as given (`--plugin` value or config entry). */
  plugin?: string;
  /** For plugins: the file the module was loaded from. */
  file?: string;
}

interface Entry {
  experiment: Experiment<any, any, any, any>;
  source: RegistrySource;
}

const KEY = Symbol.for('chainz.bench.experiments');

function registry(): Map<string, Entry> {
  const g = globalThis as unknown as Record<symbol, Map<string, Entry> | undefined>;
  return (g[KEY] ??= new Map());
}

/**
 * Check that `x` has the experiment contract's shape (a plugin's export may be anything).
 * @throws ConfigError naming the experiment and what is wrong.
 */
export function assertExperiment(x: unknown, where = 'experiment'): asserts x is Experiment<any, any, any, any> {
  const e = x as Partial<Experiment>;
  if (typeof x !== 'object' || x === null) throw new ConfigError(`${where} is not an object`);
  assertExperimentName(e.name);
  if (e.specificationVersion !== EXPERIMENT_SPEC_VERSION) {
    throw new ConfigError(`${where} '${e.name}' has specificationVersion ${String(e.specificationVersion)}; this chainz reads version ${EXPERIMENT_SPEC_VERSION}`, {}, 'build it with defineExperiment() from the installed @chainz/bench');
  }
  for (const f of ['modelOptions', 'models', 'plan'] as const) {
    if (typeof e[f] !== 'function') throw new ConfigError(`${where} '${e.name}' has no ${f}() function`);
  }
  if (typeof e.title !== 'string' || !Array.isArray(e.flags)) throw new ConfigError(`${where} '${e.name}' needs a title (string) and flags (array)`);
}

/**
 * Register an experiment. Registering the same object again is a no-op;
 * another experiment under a taken name replaces it only with `{ replace: true }`.
 * @throws ConfigError if the name is taken, or the object is not an experiment.
 */
export function registerExperiment(experiment: Experiment<any, any, any, any>, opts: { replace?: boolean; source?: RegistrySource } = {}): void {
  assertExperiment(experiment);
  const m = registry();
  const prev = m.get(experiment.name);
  if (prev && prev.experiment !== experiment && !opts.replace) {
    throw new ConfigError(
      `an experiment named '${experiment.name}' is already registered (${describeSource(prev.source)})`,
      { option: 'name' },
      'choose another name, or pass { replace: true } to registerExperiment',
    );
  }
  m.set(experiment.name, { experiment, source: opts.source ?? prev?.source ?? { kind: 'built-in' } });
}

/**
 * The experiment registered under `name`.
 * @throws ConfigError listing the registered experiments.
 */
export function getExperiment(name: string): Experiment<any, any, any, any> {
  const e = registry().get(name);
  if (!e) throw new ConfigError(`unknown experiment '${name}'; registered: ${[...registry().keys()].sort().join(', ') || '(none)'}`, { option: 'experiment' });
  return e.experiment;
}

/** True if an experiment is registered under `name`. */
export function hasExperiment(name: string): boolean {
  return registry().has(name);
}

/** Registered experiments with their sources, in registration order. */
export function listExperiments(): { experiment: Experiment<any, any, any, any>; source: RegistrySource }[] {
  return [...registry().values()];
}

/** Where an experiment came from: `built-in` or `plugin <spec> (<file>)`. */
export function experimentSource(name: string): RegistrySource | undefined {
  return registry().get(name)?.source;
}

/** One line: `built-in`, or `plugin ./my-plugin (…/my-plugin/index.mjs)`. */
export function describeSource(s: RegistrySource): string {
  return s.kind === 'built-in' ? 'built-in' : `plugin ${s.plugin}${s.file && s.file !== s.plugin ? ` (${s.file})` : ''}`;
}
