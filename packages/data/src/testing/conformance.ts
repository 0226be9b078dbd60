import * as tf from '@tensorflow/tfjs-core';
import { ChainzError, isChainzError } from '@chainz/core';
import { ADAPTER_SPEC_VERSION, DATASET_MODALITIES, type DatasetAdapter, type DatasetModality, type LoadedDataset } from '../adapter';

/** What the dataset is expected to hold (every field optional; checked when given). */
export interface ConformanceExpectations {
  /** `describe().modality`. */
  modality?: DatasetModality;
  /** `describe().task` and `LoadedDataset.task`. */
  task?: 'classification' | 'ordinal';
  /** Split names, in any order, e.g. `['all']` or `['train', 'dev', 'test']`. */
  splits?: readonly string[];
  /** Examples per split, e.g. `{ all: 768 }` (also checked against `provenance.rows`). */
  rows?: Readonly<Record<string, number>>;
  /** Feature columns D of a tabular set. */
  features?: number;
  /** Shape of one example of an image set, e.g. `[32, 32, 3]`. */
  exampleShape?: readonly number[];
  /** `classNames`, in order. */
  classNames?: readonly string[];
  /** Number of classes K (when the names are not pinned). */
  classes?: number;
  /** `featureNames`, in order. */
  featureNames?: readonly string[];
}

/** Options of {@link checkAdapterConformance}. */
export interface ConformanceOptions {
  /** Options passed to `adapter.load()` for the dataset checks (e.g. `{ dataDir }`). */
  loadOptions?: Record<string, unknown>;
  /** Expected counts and names; see {@link ConformanceExpectations}. */
  expect?: ConformanceExpectations;
  /**
   * Options under which `load()` must fail with a `DataError` naming the
   * missing file. Default: `{ ...loadOptions, path: <temp dir>/chainz-missing-<name>/<name>.csv }`
   * (a path that does not exist). `false` skips the check (an adapter with
   * embedded data only).
   */
  missingFileOptions?: Record<string, unknown> | false;
  /**
   * The file name the missing-file error must mention; default: the `path`
   * of `missingFileOptions`. Its base name counts as a mention.
   */
  missingFile?: string;
}

/** One check: what was checked and, when it failed, why. */
export interface ConformanceCheck {
  /** What is checked, e.g. `provenance.sha256 are 64 hex digits`. */
  name: string;
  /** `pass`, `fail`, or `skip` (not applicable, or an earlier failure prevents it). */
  status: 'pass' | 'fail' | 'skip';
  /** For a failure: what was found. For a skip: why. */
  detail?: string;
}

/** What {@link checkAdapterConformance} returns. */
export interface ConformanceReport {
  /** The adapter's name. */
  adapter: string;
  /** True when no check failed. */
  ok: boolean;
  /** Every check, in the order run. */
  checks: ConformanceCheck[];
  /** The failed checks (a subset of `checks`). */
  failures: ConformanceCheck[];
}

/** Thrown by {@link assertAdapterConformance}: one line per failed check; `report` holds them all. */
export class AdapterConformanceError extends ChainzError {
  readonly report: ConformanceReport;
  constructor(report: ConformanceReport) {
    const lines = report.failures.map((f) => `  ✗ ${f.name}${f.detail ? `: ${f.detail}` : ''}`);
    super('E_CONFIG', `adapter '${report.adapter}' fails ${report.failures.length} of ${report.checks.length} conformance checks:\n${lines.join('\n')}`);
    this.name = 'AdapterConformanceError';
    this.report = report;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const NAME = /^[a-z0-9][a-z0-9-]*$/;

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (Array.isArray(v)) return `array of ${v.length}`;
  if (v === null) return 'null';
  return typeof v === 'object' ? (v.constructor?.name ?? 'object') : String(v);
}

function isTensor(v: unknown): v is tf.Tensor {
  return typeof v === 'object' && v !== null && 'shape' in v && 'dtype' in v && typeof (v as tf.Tensor).dataSync === 'function';
}

/**
 * Run the adapter contract checks on an adapter — the conformance kit for
 * adapter authors (built-in or plugin). Framework-agnostic: it never throws
 * for a failed check (see {@link assertAdapterConformance} for that); it
 * throws only if the adapter's own code throws where it must not.
 *
 * Checks, in order:
 * 1. the object: `specificationVersion` 1, a valid `name`, `describe` and `load` functions;
 * 2. `describe()`: same `name`, non-empty `title` and `source`, a known
 *    `task` and `modality`, boolean `builtIn`;
 * 3. `load(loadOptions)` resolves; then the dataset: `name` and `task` as
 *    described; splits non-empty; per split, `labels` an Int32Array of
 *    integers in 0 … K − 1; `features` a float32 tensor `[N, D]` (tabular,
 *    NaN allowed, no ±Infinity) or `[N, H, W, C]` float32/int32 (image), or
 *    `texts` N strings (text), N equal to the label count; `classNames` ≥ 2
 *    non-empty unique strings; at least two classes occur; `featureNames`
 *    D non-empty unique strings (tabular); `provenance` with `files`,
 *    `sha256` (64 lower-case hex digits each, one per file), non-empty
 *    `source` and `licence`, `rows` equal to the split sizes; `warnings`
 *    (when present) one-line strings; the expectations given;
 * 4. `dispose()` leaves `tf.memory().numTensors` as it was before `load`;
 * 5. `load(missingFileOptions)` rejects with a `DataError` (`code` `E_DATA`)
 *    whose message names the missing file, and leaks no tensor.
 *
 * Node only (the missing-file check builds a path in the temp directory).
 *
 * @param adapter the adapter to check.
 * @param options `loadOptions`, `expect`, `missingFileOptions`, `missingFile`.
 * @returns the report: every check with `pass` / `fail` / `skip`.
 *
 * @example
 * const report = await checkAdapterConformance(myAdapter, { loadOptions: { dataDir }, expect: { rows: { all: 208 }, features: 60 } });
 * if (!report.ok) console.log(report.failures);
 */
export async function checkAdapterConformance(adapter: DatasetAdapter<any>, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const checks: ConformanceCheck[] = [];
  const check = (name: string, ok: boolean, detail?: string) => {
    checks.push({ name, status: ok ? 'pass' : 'fail', ...(ok || detail === undefined ? {} : { detail }) });
    return ok;
  };
  const skip = (name: string, why: string) => checks.push({ name, status: 'skip', detail: why });
  const exp = options.expect ?? {};
  const adapterName = typeof adapter?.name === 'string' ? adapter.name : String(adapter?.name);

  // 1. The object.
  check('specificationVersion is 1', adapter?.specificationVersion === ADAPTER_SPEC_VERSION, `got ${describeValue(adapter?.specificationVersion)}`);
  check("name is lower-case letters, digits and '-'", typeof adapter?.name === 'string' && NAME.test(adapter.name), `got ${describeValue(adapter?.name)}`);
  const hasDescribe = check('describe is a function', typeof adapter?.describe === 'function');
  const hasLoad = check('load is a function', typeof adapter?.load === 'function');

  // 2. describe().
  let modality: DatasetModality | undefined;
  let task: string | undefined;
  if (hasDescribe) {
    let d: ReturnType<DatasetAdapter['describe']> | undefined;
    try {
      d = adapter.describe();
      check('describe() returns an object', typeof d === 'object' && d !== null, `got ${describeValue(d)}`);
    } catch (e) {
      check('describe() returns an object', false, `it threw: ${(e as Error).message}`);
    }
    if (d && typeof d === 'object') {
      check('describe().name equals the adapter name', d.name === adapter.name, `got ${describeValue(d.name)}`);
      check('describe().title is a non-empty string', typeof d.title === 'string' && d.title.trim() !== '', `got ${describeValue(d.title)}`);
      check('describe().source is a non-empty string', typeof d.source === 'string' && d.source.trim() !== '', `got ${describeValue(d.source)}`);
      check("describe().task is 'classification' or 'ordinal'", d.task === 'classification' || d.task === 'ordinal', `got ${describeValue(d.task)}`);
      check(`describe().modality is one of ${DATASET_MODALITIES.join(', ')}`, DATASET_MODALITIES.includes(d.modality), `got ${describeValue(d.modality)}`);
      check('describe().builtIn is a boolean', typeof d.builtIn === 'boolean', `got ${describeValue(d.builtIn)}`);
      if (DATASET_MODALITIES.includes(d.modality)) modality = d.modality;
      task = d.task;
      if (exp.modality !== undefined) check(`describe().modality is '${exp.modality}'`, d.modality === exp.modality, `got ${describeValue(d.modality)}`);
      if (exp.task !== undefined) check(`describe().task is '${exp.task}'`, d.task === exp.task, `got ${describeValue(d.task)}`);
    }
  }

  // 3. load().
  const before = tf.memory().numTensors;
  let ds: LoadedDataset | undefined;
  if (hasLoad) {
    try {
      ds = await adapter.load(options.loadOptions ?? {});
      check('load(loadOptions) resolves', typeof ds === 'object' && ds !== null, `got ${describeValue(ds)}`);
    } catch (e) {
      check('load(loadOptions) resolves', false, `it threw ${(e as Error)?.name ?? 'an error'}: ${(e as Error)?.message ?? String(e)}`);
      ds = undefined;
    }
  }
  if (ds && typeof ds === 'object') {
    checkDataset(ds, adapter, task, modality, exp, check, skip);
    // 4. dispose().
    try {
      ds.dispose();
      const after = tf.memory().numTensors;
      check('dispose() releases every tensor load() made', after === before, `${after - before} tensor(s) left (numTensors ${before} before load, ${after} after dispose)`);
    } catch (e) {
      check('dispose() releases every tensor load() made', false, `dispose threw: ${(e as Error).message}`);
    }
  } else {
    skip('dataset checks and dispose()', 'load() did not return a dataset');
  }

  // 5. A missing file.
  if (options.missingFileOptions === false || !hasLoad) {
    skip('a missing file gives a DataError naming it', options.missingFileOptions === false ? 'missingFileOptions: false' : 'no load function');
  } else {
    const [os, path] = await Promise.all([import('node:os'), import('node:path')]);
    const safe = NAME.test(adapterName) ? adapterName : 'adapter';
    const missingPath = path.join(os.tmpdir(), `chainz-missing-${safe}-${process.pid}`, `${safe}.csv`);
    const opts = options.missingFileOptions ?? { ...(options.loadOptions ?? {}), path: missingPath };
    const named = options.missingFile ?? (typeof opts.path === 'string' ? opts.path : missingPath);
    const beforeMissing = tf.memory().numTensors;
    let err: unknown;
    let resolved: LoadedDataset | undefined;
    try {
      resolved = await adapter.load(opts);
    } catch (e) {
      err = e;
    }
    if (resolved) {
      check('a missing file gives a DataError naming it', false, `load() resolved for the missing file ${named}`);
      try {
        resolved.dispose();
      } catch {
        /* the failure is already recorded */
      }
    } else {
      const isData = isChainzError(err) && (err as ChainzError).code === 'E_DATA';
      check('a missing file gives a DataError', isData, `got ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`);
      if (isData) {
        const msg = (err as Error).message;
        const base = path.basename(named);
        const mentions = msg.includes(named) || msg.includes(path.resolve(named)) || msg.includes(base) || (err as ChainzError).location?.file?.includes(base) === true;
        check('the missing-file DataError names the file', mentions, `message ${JSON.stringify(msg)} does not mention ${named}`);
      }
      const afterMissing = tf.memory().numTensors;
      check('a failed load() leaks no tensor', afterMissing === beforeMissing, `${afterMissing - beforeMissing} tensor(s) left`);
    }
  }

  const failures = checks.filter((c) => c.status === 'fail');
  return { adapter: adapterName, ok: failures.length === 0, checks, failures };
}

function checkDataset(
  ds: LoadedDataset,
  adapter: DatasetAdapter<any>,
  task: string | undefined,
  modality: DatasetModality | undefined,
  exp: ConformanceExpectations,
  check: (name: string, ok: boolean, detail?: string) => boolean,
  skip: (name: string, why: string) => void,
): void {
  check('dataset.name equals the adapter name', ds.name === adapter.name, `got ${describeValue(ds.name)}`);
  check("dataset.task is 'classification' or 'ordinal'", ds.task === 'classification' || ds.task === 'ordinal', `got ${describeValue(ds.task)}`);
  if (task !== undefined) check('dataset.task equals describe().task', ds.task === task, `dataset ${describeValue(ds.task)}, describe() ${describeValue(task)}`);
  check('dispose is a function', typeof ds.dispose === 'function');

  // Classes.
  const classNames = ds.classNames;
  const namesOk = check(
    'classNames are at least 2 non-empty strings',
    Array.isArray(classNames) && classNames.length >= 2 && classNames.every((c) => typeof c === 'string' && c.trim() !== ''),
    `got ${Array.isArray(classNames) ? JSON.stringify(classNames.slice(0, 10)) : describeValue(classNames)}`,
  );
  if (namesOk) {
    const dup = classNames.find((c, i) => classNames.indexOf(c) !== i);
    check('classNames are unique', dup === undefined, `'${dup}' occurs twice`);
  }
  const K = namesOk ? classNames.length : 0;
  if (exp.classNames !== undefined) check('classNames are as expected', JSON.stringify(classNames) === JSON.stringify(exp.classNames), `got ${JSON.stringify(classNames)}`);
  if (exp.classes !== undefined) check(`there are ${exp.classes} classes`, Array.isArray(classNames) && classNames.length === exp.classes, `got ${Array.isArray(classNames) ? classNames.length : 'none'}`);

  // Splits.
  const splits = ds.splits;
  const names = typeof splits === 'object' && splits !== null ? Object.keys(splits) : [];
  if (!check('splits has at least one split', names.length > 0, `got ${describeValue(splits)}`)) return;
  if (exp.splits !== undefined) check(`splits are ${exp.splits.join(', ')}`, [...names].sort().join() === [...exp.splits].sort().join(), `got ${names.join(', ')}`);
  const seen = new Set<number>();
  let labelsValid = true;
  let tabularD: number | undefined;
  const sizes: Record<string, number> = {};
  for (const s of names) {
    const split = splits[s];
    const labels = split?.labels;
    if (!check(`splits.${s}.labels is an Int32Array`, labels instanceof Int32Array, `got ${describeValue(labels)}`)) {
      labelsValid = false;
      continue;
    }
    const n = labels.length;
    sizes[s] = n;
    check(`splits.${s} has at least one example`, n > 0, 'got 0');
    if (K > 0) {
      let bad = -1;
      for (let i = 0; i < n; i++) {
        const v = labels[i];
        if (!(v >= 0 && v < K)) {
          bad = i;
          break;
        }
        seen.add(v);
      }
      if (!check(`splits.${s}.labels are class indices 0 … ${K - 1}`, bad < 0, bad >= 0 ? `label ${bad} is ${labels[bad]}` : undefined)) labelsValid = false;
    }
    const x = split.features;
    if (x !== undefined) {
      if (!check(`splits.${s}.features is a tensor`, isTensor(x), `got ${describeValue(x)}`)) continue;
      check(`splits.${s}.features has one row per label`, x.shape[0] === n, `features [${x.shape}], ${n} labels`);
      if (modality === 'tabular' || (modality === undefined && x.rank === 2)) {
        check(`splits.${s}.features is [N, D] (rank 2)`, x.rank === 2, `got [${x.shape}]`);
        check(`splits.${s}.features is float32`, x.dtype === 'float32', `got ${x.dtype}`);
        if (x.rank === 2) {
          if (tabularD === undefined) tabularD = x.shape[1];
          else check(`splits.${s}.features has the same D as the other splits`, x.shape[1] === tabularD, `got ${x.shape[1]}, others ${tabularD}`);
          const v = x.dataSync();
          let inf = -1;
          for (let i = 0; i < v.length; i++) {
            if (v[i] === Infinity || v[i] === -Infinity) {
              inf = i;
              break;
            }
          }
          check(`splits.${s}.features has no ±Infinity (NaN marks missing)`, inf < 0, inf >= 0 ? `row ${Math.floor(inf / x.shape[1])}, column ${(inf % x.shape[1]) + 1}` : undefined);
        }
      } else if (modality === 'image') {
        check(`splits.${s}.features is [N, H, W, C] (rank 4)`, x.rank === 4, `got [${x.shape}]`);
        check(`splits.${s}.features is float32 or int32`, x.dtype === 'float32' || x.dtype === 'int32', `got ${x.dtype}`);
        if (exp.exampleShape !== undefined) check(`splits.${s} examples are [${exp.exampleShape}]`, JSON.stringify(x.shape.slice(1)) === JSON.stringify(exp.exampleShape), `got [${x.shape.slice(1)}]`);
      }
      if (exp.features !== undefined && x.rank === 2) check(`splits.${s}.features has ${exp.features} columns`, x.shape[1] === exp.features, `got ${x.shape[1]}`);
    } else if (modality === 'tabular' || modality === 'image') {
      check(`splits.${s}.features is present (${modality})`, false, 'no features');
    }
    if (split.texts !== undefined || modality === 'text') {
      const t = split.texts;
      check(`splits.${s}.texts are ${n} strings`, Array.isArray(t) && t.length === n && t.every((v) => typeof v === 'string'), `got ${describeValue(t)}`);
    }
    if (exp.rows?.[s] !== undefined) check(`splits.${s} has ${exp.rows[s]} examples`, n === exp.rows[s], `got ${n}`);
  }
  if (K > 0 && labelsValid) check('at least two classes occur in the labels', seen.size >= 2, `only ${[...seen].map((k) => classNames[k]).join(', ') || 'none'}`);
  if (exp.rows !== undefined) for (const s of Object.keys(exp.rows)) if (!(s in sizes)) check(`split ${s} exists`, false, `splits: ${names.join(', ')}`);

  // Feature names (tabular).
  if (tabularD !== undefined) {
    const f = ds.featureNames;
    const ok = check(
      'featureNames are D non-empty strings',
      Array.isArray(f) && f.length === tabularD && f.every((c) => typeof c === 'string' && c.trim() !== ''),
      Array.isArray(f) ? `${f.length} names for D = ${tabularD}` : `got ${describeValue(f)}`,
    );
    if (ok) {
      const dup = f!.find((c, i) => f!.indexOf(c) !== i);
      check('featureNames are unique', dup === undefined, `'${dup}' occurs twice`);
    }
    if (exp.featureNames !== undefined) check('featureNames are as expected', JSON.stringify(f) === JSON.stringify(exp.featureNames), `got ${JSON.stringify(f?.slice(0, 10))}`);
  } else if (exp.featureNames !== undefined) {
    skip('featureNames are as expected', 'no tabular features');
  }

  // Provenance.
  const p = ds.provenance;
  if (!check('provenance is an object', typeof p === 'object' && p !== null, `got ${describeValue(p)}`)) return;
  const filesOk = check(
    'provenance.files is a non-empty list of paths',
    Array.isArray(p.files) && p.files.length > 0 && p.files.every((f) => typeof f === 'string' && f !== ''),
    `got ${describeValue(p.files)}`,
  );
  const shaOk = check('provenance.sha256 has one entry per file', Array.isArray(p.sha256) && filesOk && p.sha256.length === p.files.length, `${Array.isArray(p.sha256) ? p.sha256.length : 'no'} checksums for ${Array.isArray(p.files) ? p.files.length : 'no'} files`);
  if (shaOk) {
    const bad = p.sha256.findIndex((h) => typeof h !== 'string' || !HEX64.test(h));
    check('provenance.sha256 are 64 lower-case hex digits', bad < 0, bad >= 0 ? `entry ${bad} is ${describeValue(p.sha256[bad])}` : undefined);
  }
  check('provenance.source is a non-empty string', typeof p.source === 'string' && p.source.trim() !== '', `got ${describeValue(p.source)}`);
  check('provenance.licence is a non-empty string', typeof p.licence === 'string' && p.licence.trim() !== '', `got ${describeValue(p.licence)}`);
  if (p.citation !== undefined) check('provenance.citation is a non-empty string', typeof p.citation === 'string' && p.citation.trim() !== '', `got ${describeValue(p.citation)}`);
  if (p.notes !== undefined) check('provenance.notes are strings', Array.isArray(p.notes) && p.notes.every((s) => typeof s === 'string'), `got ${describeValue(p.notes)}`);
  const rowsOk = check('provenance.rows is given', typeof p.rows === 'object' && p.rows !== null, `got ${describeValue(p.rows)}`);
  if (rowsOk) {
    const wrong = Object.keys(sizes).filter((s) => p.rows![s] !== sizes[s]);
    check('provenance.rows match the split sizes', wrong.length === 0, wrong.map((s) => `${s}: ${p.rows![s]} in provenance, ${sizes[s]} loaded`).join('; '));
  }
  if (ds.warnings !== undefined) {
    check('warnings are one-line strings', Array.isArray(ds.warnings) && ds.warnings.every((w) => typeof w === 'string' && w !== '' && !w.includes('\n')), `got ${describeValue(ds.warnings)}`);
  }
}

/**
 * {@link checkAdapterConformance}, throwing when a check fails — one call
 * for any test runner: `await assertAdapterConformance(myAdapter, { loadOptions })`.
 *
 * @returns the report when every check passes (or is skipped).
 * @throws AdapterConformanceError (code `E_CONFIG`) listing every failed check, one per line.
 */
export async function assertAdapterConformance(adapter: DatasetAdapter<any>, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const report = await checkAdapterConformance(adapter, options);
  if (!report.ok) throw new AdapterConformanceError(report);
  return report;
}
