/**
 * Flags of `chainz bench <experiment>`, declared once.
 *
 * An experiment lists its flags as {@link FlagSpec}s: the shared ones from
 * {@link COMMON_FLAGS} (e.g. `COMMON_FLAGS.seed`) and its own. The CLI turns
 * them into commander options; {@link validateOptions} applies the same rules
 * to options given by a library caller, so both paths reject the same values
 * with the same message.
 */
import path from 'node:path';
import { ConfigError } from '@chainz/core';

/** How a flag's value is read. */
export type FlagKind =
  /** an integer within [min, max] */
  | 'int'
  /** a finite decimal number within [min, max] (no hex, no empty string) */
  | 'number'
  /** free text */
  | 'string'
  /** a file or folder; relative paths start from the user's working directory */
  | 'path'
  /** comma-separated non-empty names */
  | 'list'
  /** one of `choices` */
  | 'choice'
  /** `--flag` → true */
  | 'boolean'
  /** `--no-x` → false (default true) */
  | 'negatable';

/** One flag of an experiment. */
export interface FlagSpec {
  /** Key in the options object (camelCase), e.g. `folds`, `cacheDir`. */
  key: string;
  /** Commander syntax, e.g. `--folds <k>`, `--no-cache`. */
  flag: string;
  /** One line for `--help`. */
  description: string;
  kind: FlagKind;
  /** Bounds for `int` and `number` (inclusive). */
  min?: number;
  max?: number;
  /** Allowed values for `choice`, and the allowed names for `list` when fixed. */
  choices?: readonly string[];
  /** Default shown in `--help` and applied when the flag is absent (leave out when the default depends on other options). */
  default?: string | number | boolean;
  /** May be given several times (values collected in an array). */
  repeatable?: boolean;
  /**
   * Own parser of the command-line text (after the empty-value check), for
   * values whose library form differs (e.g. `--fractions 1,5` → `[0.01, 0.05]`);
   * library callers pass the parsed form, which the experiment checks.
   * Throw a ConfigError naming the flag.
   */
  parse?: (raw: string) => unknown;
}

/** Seeds are unsigned 32-bit integers. */
export const SEED_MAX = 2 ** 32 - 1;

const BACKENDS = 'auto, gpu, cuda, webgpu, wasm, cpu, tensorflow';

/**
 * Flags shared by several experiments, declared once. The runner adds the
 * run flags ({@link RUN_FLAGS}) to every experiment; the others are listed by
 * the experiments that use them.
 */
export const COMMON_FLAGS = {
  models: { key: 'models', flag: '--models <list>', description: 'comma-separated subset of the models (default: all)', kind: 'list' },
  seed: { key: 'seed', flag: '--seed <n>', description: 'base seed (folds, initialisation, batch order)', kind: 'int', min: 0, max: SEED_MAX, default: 0 },
  seeds: { key: 'seeds', flag: '--seeds <n>', description: 'number of seeds', kind: 'int', min: 1, max: 100 },
  folds: { key: 'folds', flag: '--folds <k>', description: 'folds of stratified k-fold', kind: 'int', min: 2, max: 1000 },
  repeats: { key: 'repeats', flag: '--repeats <n>', description: 'repetitions of k-fold', kind: 'int', min: 1, max: 100 },
  lambda: { key: 'lambda', flag: '--lambda <value>', description: "DREG λ of the ChainzRule models (default 10^-2.5, the paper's); for ablations", kind: 'number', min: 0 },
  protocol: { key: 'protocol', flag: '--protocol <name>', description: 'default (quick) or full (the whole protocol)', kind: 'choice', choices: ['default', 'full'], default: 'default' },
  encoder: { key: 'encoder', flag: '--encoder <spec>', description: 'frozen sentence encoder: use-lite (default; not BERT), transformers:<model dir or id>, precomputed:<file .npy|.json|.jsonl>', kind: 'string' },
  pooling: { key: 'pooling', flag: '--pooling <mode>', description: 'pooling for token-level encoders: mean (default) or cls', kind: 'choice', choices: ['mean', 'cls'] },
  cacheDir: { key: 'cacheDir', flag: '--cache-dir <dir>', description: 'embedding cache folder (default: $CHAINZ_CACHE_DIR/embeddings or ~/.cache/chainz/embeddings)', kind: 'path' },
  maxRows: { key: 'maxRows', flag: '--max-rows <n>', description: 'read only the first n rows of each file (reduced scale)', kind: 'int', min: 1 },
} as const satisfies Record<string, FlagSpec>;

/** `--models` listing an experiment's model names in its help. */
export function modelsFlag(names: readonly string[]): FlagSpec {
  return { ...COMMON_FLAGS.models, description: `comma-separated subset of: ${names.join(', ')} (default: all)` };
}

/** Flags of every run (added by the runner to every experiment). */
export const RUN_FLAGS = {
  out: { key: 'out', flag: '--out <dir>', description: 'results folder (default: ./results/<experiment>/<timestamp>)', kind: 'path' },
  resume: { key: 'resume', flag: '--resume <dir>', description: 'continue an interrupted run in <dir> (same options required)', kind: 'path' },
  backend: { key: 'backend', flag: '--backend <name>', description: `tfjs backend: ${BACKENDS} (default: $CHAINZ_BACKEND or auto)`, kind: 'string' },
  // no fixed maximum: the limit is this machine's (2 × cores, and free memory), checked by capWorkers with the reason
  workers: { key: 'workers', flag: '--workers <n>', description: 'worker threads (default: min(4, CPU cores); at most 2 × CPU cores, fewer when free memory is short)', kind: 'int', min: 1 },
  queue: {
    key: 'queue',
    flag: '--queue <url>',
    description: 'run units on `chainz worker` processes through Redis: redis://[user:pass@]host:port[/db] or rediss://… (TLS); see docs/scaling.md',
    kind: 'string',
  },
  progress: { key: 'progress', flag: '--no-progress', description: 'no progress output on stderr', kind: 'negatable' },
} as const satisfies Record<string, FlagSpec>;

/** `--folds` etc. as the user typed it, for error messages. */
export function flagName(spec: FlagSpec): string {
  return spec.flag.split(/[ =]/)[0];
}

/**
 * Parse one raw command-line value of a flag.
 * @throws ConfigError naming the flag: e.g. `option --lambda: must be a decimal number ≥ 0, got '0x10'`.
 */
export function parseFlagValue(spec: FlagSpec, raw: string): unknown {
  const name = flagName(spec);
  const v = raw.trim();
  if (v === '') throw new ConfigError('must not be empty (leave the option out for its default)', { option: name });
  if (spec.parse) return spec.parse(raw);
  switch (spec.kind) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(v)) throw new ConfigError(`must be an integer${range(spec)}, got '${raw}'`, { option: name });
      return checkRange(spec, Number(v));
    }
    case 'number': {
      // Decimal or exponent notation only: Number('') = 0 and Number('0x10') = 16 are not what a user means.
      if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v)) throw new ConfigError(`must be a decimal number${range(spec)}, got '${raw}'`, { option: name });
      return checkRange(spec, Number(v));
    }
    case 'list': {
      const items = v.split(',').map((x) => x.trim()).filter(Boolean);
      if (items.length === 0) throw new ConfigError('needs at least one name (leave the option out for all)', { option: name });
      if (spec.choices) {
        const bad = items.filter((x) => !spec.choices!.includes(x));
        if (bad.length > 0) throw new ConfigError(`unknown value(s) ${bad.join(', ')}; choose from ${spec.choices.join(', ')}`, { option: name });
      }
      return items;
    }
    case 'choice': {
      if (!spec.choices!.includes(v)) throw new ConfigError(`must be one of ${spec.choices!.join(', ')}, got '${raw}'`, { option: name });
      return v;
    }
    case 'string':
      if (v === '') throw new ConfigError('must not be empty (leave the option out for its default)', { option: name });
      return raw;
    case 'path':
      return raw;
    default:
      return raw;
  }
}

function range(spec: FlagSpec): string {
  const lo = spec.min, hi = spec.max;
  if (lo !== undefined && hi !== undefined) return ` from ${lo} to ${hi}`;
  if (lo !== undefined) return ` ≥ ${lo}`;
  if (hi !== undefined) return ` ≤ ${hi}`;
  return '';
}

function checkRange(spec: FlagSpec, x: number): number {
  if (!Number.isFinite(x) || (spec.min !== undefined && x < spec.min) || (spec.max !== undefined && x > spec.max)) {
    throw new ConfigError(`must be ${spec.kind === 'int' ? 'an integer' : 'a number'}${range(spec)}, got ${x}`, { option: flagName(spec) });
  }
  return x;
}

/**
 * Check an options object against flag specs (the library path; the CLI has
 * already parsed strings with {@link parseFlagValue}): numbers in range,
 * integers integral, choices known, lists non-empty, strings non-empty.
 * Applies defaults of absent flags and resolves `path` flags against `cwd`.
 * @returns a new options object.
 * @throws ConfigError naming the flag at fault.
 */
export function validateOptions<T extends object>(specs: readonly FlagSpec[], options: T, cwd: string): T {
  const out: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  for (const spec of specs) {
    const name = flagName(spec);
    const v = out[spec.key];
    if (v === null) continue; // an explicit "none" (e.g. cacheDir: null = no cache)
    if (v === undefined) {
      if (spec.default !== undefined && spec.kind !== 'negatable') out[spec.key] = spec.default;
      continue;
    }
    if ((spec.repeatable && Array.isArray(v)) || spec.parse) continue;
    switch (spec.kind) {
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(`must be an integer${range(spec)}, got ${String(v)}`, { option: name });
        checkRange(spec, v);
        break;
      case 'number':
        if (typeof v !== 'number') throw new ConfigError(`must be a number${range(spec)}, got ${String(v)}`, { option: name });
        checkRange(spec, v);
        break;
      case 'list':
        if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x.trim() === '')) throw new ConfigError('needs at least one name (leave the option out for all)', { option: name });
        if (spec.choices) {
          const bad = (v as string[]).filter((x) => !spec.choices!.includes(x));
          if (bad.length > 0) throw new ConfigError(`unknown value(s) ${bad.join(', ')}; choose from ${spec.choices.join(', ')}`, { option: name });
        }
        break;
      case 'choice':
        if (typeof v !== 'string' || !spec.choices!.includes(v)) throw new ConfigError(`must be one of ${spec.choices!.join(', ')}, got '${String(v)}'`, { option: name });
        break;
      case 'string':
      case 'path':
        if (typeof v !== 'string' || v.trim() === '') throw new ConfigError('must not be empty (leave the option out for its default)', { option: name });
        if (spec.kind === 'path') out[spec.key] = path.resolve(cwd, v);
        break;
      default:
        break;
    }
  }
  return out as T;
}
