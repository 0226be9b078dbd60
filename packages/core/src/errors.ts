/**
 * Typed errors shared by every ChainzRule-TS package.
 *
 * Every error carries a stable machine-readable `code` and, where it applies,
 * the file / row / column / option / tensor at fault, so a CLI can print one
 * clear line and a program can branch on `code` instead of parsing messages.
 */

/** Stable error codes. */
export type ChainzErrorCode =
  | 'E_CONFIG'
  | 'E_DATA'
  | 'E_SHAPE'
  | 'E_NUMERIC'
  | 'E_BACKEND'
  | 'E_TFJS_DUPLICATE'
  | 'E_IO'
  | 'E_RESUME'
  | 'E_LOCKED'
  | 'E_NONFINITE';

/** Where in an input an error was found. All fields optional. */
export interface ErrorLocation {
  /** Path of the file at fault. */
  file?: string;
  /** 1-based row (line) number in that file. */
  row?: number;
  /** Column name or 1-based index. */
  column?: string | number;
  /** Name of the option at fault (e.g. `--folds`, `degree`). */
  option?: string;
  /** Name of the tensor or layer at fault. */
  tensor?: string;
}

/**
 * How option names are spelled in an error's text: library name → spelling
 * (e.g. `{ path: '--data' }` for a CLI), or `null` to leave that name out of a
 * list of alternatives (an option the caller does not offer).
 */
export type OptionNames = Readonly<Record<string, string | null>>;

const OPTION_REF = /\{option:([A-Za-z0-9_.-]+(?:\|[A-Za-z0-9_.-]+)*)\}/g;

/**
 * Mention options in an error message or hint: `optionRef('path')` reads
 * `` `path` `` by default and `--data` after
 * `err.withOptionNames({ path: '--data' })`; several names are alternatives
 * (`optionRef('path', 'dataDir')` reads `` `path` or `dataDir` ``).
 * @returns the marker `{option:a|b}`, expanded by the {@link ChainzError} constructor.
 */
export function optionRef(...names: string[]): string {
  return `{option:${names.join('|')}}`;
}

const OPTION_CLAUSE = /\{option\?([A-Za-z0-9_.-]+(?:\|[A-Za-z0-9_.-]+)*):([^:{}]*):([^:{}]*)\}/g;

/**
 * A part of an error message or hint that only makes sense where the caller
 * offers one of the options `names`: shown as `text` (which may mention them
 * with {@link optionRef}) while at least one of them is spelled, and as
 * `otherwise` (default: nothing) once every one is mapped to `null` by
 * {@link ChainzError.withOptionNames} — e.g. a CLI without a `maxClasses` flag
 * reads a plain instruction instead of "raise `maxClasses`".
 * @example `choose the class column with ${optionRef('target')}${optionClause('maxClasses', `, or raise ${optionRef('maxClasses')}`)}`
 * @returns the marker `{option?a|b:text:otherwise}` (texts URI-encoded), expanded by the {@link ChainzError} constructor.
 */
export function optionClause(names: string | readonly string[], text: string, otherwise = ''): string {
  const list = typeof names === 'string' ? [names] : names;
  return `{option?${list.join('|')}:${encodeURIComponent(text)}:${encodeURIComponent(otherwise)}}`;
}

/**
 * How option `n` is spelled: follows renamings through several layers (a data
 * loader renames `path` to `cifarDir`, a CLI then `cifarDir` to `--cifar-dir`),
 * `null` to leave it out, or the name in backticks.
 */
function spell(n: string, names: OptionNames): string | null {
  let cur = n;
  for (let i = 0; i < 8 && Object.hasOwn(names, cur); i++) {
    const next = names[cur];
    if (next === null) return null;
    if (next === cur || !Object.hasOwn(names, next)) return next;
    cur = next;
  }
  return Object.hasOwn(names, cur) ? names[cur] : `\`${cur}\``;
}

function renderOptionRefs(text: string, names: OptionNames): string {
  // clauses first (a clause's text may hold further clauses and mentions)
  for (let i = 0; i < 4 && text.includes('{option?'); i++) {
    text = text.replace(OPTION_CLAUSE, (_, list: string, shown: string, otherwise: string) =>
      decodeURIComponent(list.split('|').some((n) => spell(n, names) !== null) ? shown : otherwise),
    );
  }
  return text.replace(OPTION_REF, (_, list: string) => {
    const all = list.split('|');
    const shown = all.map((n) => spell(n, names)).filter((s): s is string => s !== null);
    return (shown.length > 0 ? shown : all.map((n) => `\`${n}\``)).join(' or ');
  });
}

/** Base class of all errors thrown by ChainzRule-TS. */
export class ChainzError extends Error {
  readonly code: ChainzErrorCode;
  readonly location: ErrorLocation;
  /** A hint on how to fix the problem, printed after the message by the CLI. */
  readonly hint?: string;
  /** Message and hint as written, with their {@link optionRef} markers. */
  readonly #template: { message: string; hint?: string };
  /** Spellings applied so far by {@link ChainzError.withOptionNames}. */
  #names: OptionNames;

  /**
   * @param message what is wrong; may mention options with {@link optionRef}.
   * @param location the file / row / column / option / tensor at fault; prefixed to the message.
   * @param hint how to fix it; may mention options with {@link optionRef}.
   */
  constructor(code: ChainzErrorCode, message: string, location: ErrorLocation = {}, hint?: string, options?: { cause?: unknown }) {
    super(formatMessage(renderOptionRefs(message, {}), location), options);
    // Explicit names: bundlers (ours, or a user's minifier) may rename classes.
    this.name = ERROR_NAMES.get(new.target) ?? new.target.name;
    this.code = code;
    this.location = location;
    this.hint = hint === undefined ? undefined : renderOptionRefs(hint, {});
    this.#template = { message, hint };
    this.#names = {};
  }

  /**
   * The same error (same class, code, cause and stack) with option names
   * spelled as the caller knows them — e.g. a CLI re-throws an adapter's
   * error with `{ path: '--data', dataDir: null }` so the user reads the flag
   * they typed, while library callers keep seeing `path`. Applies to the
   * {@link optionRef} mentions in message and hint and to `location.option`;
   * names not in `names` keep their spelling; a `location.option` mapped to
   * `null` is left out, and {@link optionClause} parts whose options are all
   * `null` read their `otherwise` text. Later calls override earlier ones.
   */
  withOptionNames(names: OptionNames): this {
    const merged: OptionNames = { ...this.#names, ...names };
    const option = this.location.option;
    let location = this.location;
    if (option !== undefined && Object.hasOwn(names, option)) {
      const spelled = spell(option, names);
      if (spelled !== null) location = { ...location, option: spelled };
      else {
        // the caller has no such option: naming it would send the user looking for it
        const { option: _, ...rest } = location;
        location = rest;
      }
    }
    const hint = this.#template.hint;
    const args = [this.code, this.#template.message, location, hint, this.cause === undefined ? undefined : { cause: this.cause }];
    const e = Reflect.construct(ChainzError, args, this.constructor) as this;
    // fields a subclass set in its own constructor (errno, step, …), which Reflect.construct did not run
    for (const k of Object.keys(this)) if (!Object.hasOwn(e, k)) (e as Record<string, unknown>)[k] = (this as Record<string, unknown>)[k];
    e.name = this.name; // a subclass's own name (the constructor saw only its possibly renamed class)
    e.#names = merged;
    (e as { message: string }).message = formatMessage(renderOptionRefs(this.#template.message, merged), location);
    (e as { hint?: string }).hint = hint === undefined ? undefined : renderOptionRefs(hint, merged);
    if (typeof this.stack === 'string') {
      // Keep the frames of the original throw: that is where the problem was found.
      const at = this.stack.indexOf('\n    at ');
      e.stack = `${e.name}: ${e.message}${at >= 0 ? this.stack.slice(at) : ''}`;
    }
    return e;
  }
}

/** An option or argument has an invalid value. */
export class ConfigError extends ChainzError {
  constructor(message: string, location: ErrorLocation = {}, hint?: string) {
    super('E_CONFIG', message, location, hint);
  }
}

/** An input file or dataset is malformed (names file, row, column). */
export class DataError extends ChainzError {
  constructor(message: string, location: ErrorLocation = {}, hint?: string, options?: { cause?: unknown }) {
    super('E_DATA', message, location, hint, options);
  }
}

/** A tensor has the wrong rank, shape or dtype. */
export class ShapeError extends ChainzError {
  constructor(message: string, location: ErrorLocation = {}, hint?: string) {
    super('E_SHAPE', message, location, hint);
  }
}

/** A computation produced a non-finite value (NaN or ±Infinity). */
export class NumericError extends ChainzError {
  constructor(message: string, location: ErrorLocation = {}, hint?: string) {
    super('E_NUMERIC', message, location, hint);
  }
}

/** A compute backend is unavailable or failed to initialise. */
export class BackendError extends ChainzError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super('E_BACKEND', message, {}, hint, options);
  }
}

/**
 * Reading or writing a file failed (E_IO). The message names the file and the
 * system error code (`ENOSPC`, `EACCES`, …), also in {@link IoError.errno}.
 */
export class IoError extends ChainzError {
  /** The system error code, e.g. `ENOSPC`; `'ESHORTWRITE'` when fewer bytes were written than asked and no error was given. */
  readonly errno: string | undefined;
  constructor(message: string, location: ErrorLocation & { errno?: string } = {}, hint?: string, options?: { cause?: unknown }) {
    const { errno, ...loc } = location;
    super('E_IO', message, loc, hint, options);
    this.errno = errno;
  }
}

/** What a {@link NonFiniteError} found non-finite. */
export type NonFiniteKind = 'input' | 'weight' | 'activation' | 'loss' | 'gradient';

/** Where a non-finite value appeared in a training step (fields of {@link NonFiniteError}). */
export interface NonFiniteLocation {
  /** What was non-finite. */
  kind: NonFiniteKind;
  /** Layer (or variable) name, when the value belongs to one. */
  layer?: string;
  /** Tensor name, e.g. `kernel`, `∂loss/∂kernel`, `z`, `loss`, `x`. */
  tensor?: string;
  /** 0-based training step (batch) at which it appeared. */
  step?: number;
  /** 0-based row of the input that is non-finite (the first one), when the input was. */
  row?: number;
  /** Every non-finite input row found (capped), when the input was. */
  rows?: number[];
}

/**
 * A NaN or ±Infinity appeared during training (E_NONFINITE), found by the
 * non-finite watchdog. The message reads e.g. `step 12: gradient ∂loss/∂kernel
 * of layer 'hidden 1' is not finite`; the same facts are in the fields
 * {@link NonFiniteError.kind}, `layer`, `tensor`, `step`, `row`, `rows`.
 */
export class NonFiniteError extends ChainzError {
  readonly kind: NonFiniteKind;
  readonly layer: string | undefined;
  readonly step: number | undefined;
  readonly row: number | undefined;
  readonly rows: number[] | undefined;
  /** The tensor's name (also in `location.tensor`). */
  readonly tensorName: string | undefined;
  constructor(message: string, where: NonFiniteLocation, hint?: string) {
    super('E_NONFINITE', message, {}, hint);
    this.kind = where.kind;
    this.layer = where.layer;
    this.tensorName = where.tensor;
    this.step = where.step;
    this.row = where.row;
    this.rows = where.rows;
  }
}

/** `error.name` of the project's error classes, independent of how a bundler names them. */
const ERROR_NAMES = new Map<Function, string>([
  [ChainzError, 'ChainzError'],
  [ConfigError, 'ConfigError'],
  [DataError, 'DataError'],
  [ShapeError, 'ShapeError'],
  [NumericError, 'NumericError'],
  [BackendError, 'BackendError'],
  [IoError, 'IoError'],
  [NonFiniteError, 'NonFiniteError'],
]);

/**
 * `file, row r, column c, option o, tensor t: message`. A file or tensor the
 * message already names in quotes (`layer 'dense_1': …` with `tensor:
 * 'dense_1'`, or a Node error text `… open '/d/x.csv'`) is not prefixed again:
 * the prefix would only repeat it. `location` keeps every field either way.
 */
function formatMessage(message: string, loc: ErrorLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined && !namesQuoted(message, loc.file)) parts.push(loc.file);
  if (loc.row !== undefined) parts.push(`row ${loc.row}`);
  if (loc.column !== undefined) parts.push(`column ${loc.column}`);
  if (loc.option !== undefined) parts.push(`option ${loc.option}`);
  if (loc.tensor !== undefined && !namesQuoted(message, loc.tensor)) parts.push(`tensor ${loc.tensor}`);
  return parts.length > 0 ? `${parts.join(', ')}: ${message}` : message;
}

/** True if `message` names `name` in quotes ('n', "n" or `n`, as Node's error texts quote paths). */
function namesQuoted(message: string, name: string): boolean {
  return name !== '' && [`'${name}'`, `"${name}"`, `\`${name}\``].some((q) => message.includes(q));
}

/** True if `e` is a ChainzError (works across duplicated module copies). */
export function isChainzError(e: unknown): e is ChainzError {
  return e instanceof ChainzError || (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && String((e as { code: string }).code).startsWith('E_') && 'location' in e);
}

/**
 * `e` with option names respelled ({@link ChainzError.withOptionNames}) when it
 * is a ChainzError; any other value is returned unchanged. For `catch` blocks
 * that re-throw: `catch (e) { throw renameOptions(e, { path: '--data' }); }`.
 */
export function renameOptions<E>(e: E, names: OptionNames): E {
  if (isChainzError(e) && typeof (e as { withOptionNames?: unknown }).withOptionNames === 'function') return e.withOptionNames(names) as E;
  return e;
}
