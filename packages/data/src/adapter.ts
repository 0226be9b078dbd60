import type * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@chainz/core';

/**
 * Dataset adapter specification (version 1).
 *
 * An adapter is a plugin: `defineAdapter({...})` builds one, `registerAdapter()`
 * makes it visible to `getAdapter(name)` / `listAdapters()` and to
 * `chainz datasets`. Every adapter takes the same base options (`path`,
 * `dataDir`) and reads local data first: an explicit `path`, then
 * `<dataDir ?? CHAINZ_DATA_DIR>/<dataset>/…` (resolved by `resolveDataPath`).
 */
export const ADAPTER_SPEC_VERSION = 1 as const;

/** Where the data came from, recorded in every results file. */
export interface Provenance {
  /** Absolute path (or URL) of each file read. */
  files: string[];
  /** sha256 (hex) of each file, same order as `files`. */
  sha256: string[];
  /** Upstream source and licence, one line each. */
  source: string;
  licence: string;
  /** Citation for the dataset. */
  citation?: string;
  /** Free-form notes, e.g. "reduced-scale sample", "regenerated corruptions". */
  notes?: string[];
  /** Number of examples per split, e.g. `{ all: 768 }`. */
  rows?: Record<string, number>;
}

/** One split (e.g. `all`, `train`, `dev`, `test`). */
export interface DatasetSplit {
  /**
   * Numeric features: `[N, D]` float32 for tabular data (NaN marks a missing
   * value) or `[N, H, W, C]` for images. Absent for raw-text datasets.
   */
  features?: tf.Tensor2D | tf.Tensor4D;
  /** Raw texts, length N (text datasets). */
  texts?: string[];
  /** Class index per example, length N, values in `0 … classNames.length-1`. */
  labels: Int32Array;
}

/** What `adapter.load()` returns. The caller owns (and disposes) the tensors. */
export interface LoadedDataset {
  /** Adapter name, e.g. `pima`. */
  name: string;
  task: 'classification' | 'ordinal';
  splits: Record<string, DatasetSplit>;
  classNames: string[];
  /** Column names for tabular data, in feature order. */
  featureNames?: string[];
  provenance: Provenance;
  /**
   * Problems found in the data that do not stop loading, one line each with
   * counts, for a CLI to print and a results file to keep (e.g. duplicated
   * rows, extreme values, a file that differs from the reference copy).
   * Absent or empty when there is nothing to say.
   */
  warnings?: string[];
  /** Dispose every tensor held by the splits. */
  dispose(): void;
}

/** Options every adapter accepts; adapters extend this with their own. */
export interface BaseLoadOptions {
  /** Explicit file or directory to read (overrides the data directory). */
  path?: string;
  /** Root data directory; default `process.env.CHAINZ_DATA_DIR`. */
  dataDir?: string;
}

/**
 * What an adapter's examples are: `tabular` (features `[N, D]` float32, NaN =
 * missing; experiments such as `chainz bench tabular` accept these), `text`
 * (raw `texts`) or `image` (features `[N, H, W, C]`).
 */
export type DatasetModality = 'tabular' | 'text' | 'image';

/** The modalities, in the order listings show them. */
export const DATASET_MODALITIES: readonly DatasetModality[] = ['tabular', 'text', 'image'];

/** Describes an adapter for listings (`chainz datasets`). */
export interface AdapterDescription {
  name: string;
  title: string;
  task: 'classification' | 'ordinal';
  /** What the examples are; runners pick adapters by it (e.g. every `tabular` one). */
  modality: DatasetModality;
  /** One line on where the adapter looks for data and in what format. */
  source: string;
  /** True if the adapter works with no external data (embedded default). */
  builtIn: boolean;
}

/** A dataset adapter plugin. */
export interface DatasetAdapter<O extends BaseLoadOptions = BaseLoadOptions> {
  specificationVersion: typeof ADAPTER_SPEC_VERSION;
  name: string;
  describe(): AdapterDescription;
  load(options?: O): Promise<LoadedDataset>;
}

/**
 * Build an adapter object (checks the name; adds the spec version).
 * @throws ConfigError (option `name`) unless the name is lower-case letters,
 *   digits and '-', starting with a letter or digit.
 */
export function defineAdapter<O extends BaseLoadOptions>(
  def: Omit<DatasetAdapter<O>, 'specificationVersion'>,
): DatasetAdapter<O> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(def.name)) {
    throw new ConfigError(`adapter name must be lower-case letters, digits and '-', got '${def.name}'`, { option: 'name' });
  }
  return { specificationVersion: ADAPTER_SPEC_VERSION, ...def };
}

const REGISTRY_KEY = Symbol.for('chainz.data.adapters');

function registry(): Map<string, DatasetAdapter<any>> {
  const g = globalThis as unknown as Record<symbol, Map<string, DatasetAdapter<any>> | undefined>;
  let m = g[REGISTRY_KEY];
  if (!m) {
    m = new Map();
    g[REGISTRY_KEY] = m;
  }
  return m;
}

/**
 * Register an adapter (kept on `globalThis`, so two bundled copies share it).
 * Registering the same adapter object again is a no-op; registering another
 * adapter under a taken name replaces the earlier one only with
 * `{ replace: true }`.
 * @throws ConfigError (option `name`) if the name is taken and `replace` is not set.
 */
export function registerAdapter(adapter: DatasetAdapter<any>, opts: { replace?: boolean } = {}): void {
  const m = registry();
  const prev = m.get(adapter.name);
  if (prev && prev !== adapter && !opts.replace) {
    throw new ConfigError(
      `an adapter named '${adapter.name}' is already registered`,
      { option: 'name' },
      'pass { replace: true } to registerAdapter to replace it, or choose another name',
    );
  }
  m.set(adapter.name, adapter);
}

/** True if an adapter with this name is registered. */
export function hasAdapter(name: string): boolean {
  return registry().has(name);
}

/**
 * Look up a registered adapter.
 * @throws ConfigError (option `dataset`) naming the registered datasets if
 *   none has this name.
 */
export function getAdapter<O extends BaseLoadOptions = BaseLoadOptions>(name: string): DatasetAdapter<O> {
  const a = registry().get(name);
  if (!a) {
    const names = [...registry().keys()].sort();
    throw new ConfigError(
      `unknown dataset '${name}'; registered datasets: ${names.join(', ') || '(none)'}`,
      { option: 'dataset' },
      names.length === 0 ? 'call registerBuiltinAdapters() (or registerAdapter) first' : undefined,
    );
  }
  return a as DatasetAdapter<O>;
}

/**
 * All registered adapters, sorted by name; with `{ modality }`, only those
 * whose `describe().modality` matches (e.g. every tabular data set).
 */
export function listAdapters(filter: { modality?: DatasetModality } = {}): DatasetAdapter<any>[] {
  const all = [...registry().values()].sort((a, b) => a.name.localeCompare(b.name));
  return filter.modality === undefined ? all : all.filter((a) => a.describe().modality === filter.modality);
}
