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
  | 'E_RESUME';

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

/** Base class of all errors thrown by ChainzRule-TS. */
export class ChainzError extends Error {
  readonly code: ChainzErrorCode;
  readonly location: ErrorLocation;
  /** A hint on how to fix the problem, printed after the message by the CLI. */
  readonly hint?: string;

  constructor(code: ChainzErrorCode, message: string, location: ErrorLocation = {}, hint?: string, options?: { cause?: unknown }) {
    super(formatMessage(message, location), options);
    this.name = new.target.name;
    this.code = code;
    this.location = location;
    this.hint = hint;
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

function formatMessage(message: string, loc: ErrorLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(loc.file);
  if (loc.row !== undefined) parts.push(`row ${loc.row}`);
  if (loc.column !== undefined) parts.push(`column ${loc.column}`);
  if (loc.option !== undefined) parts.push(`option ${loc.option}`);
  if (loc.tensor !== undefined) parts.push(`tensor ${loc.tensor}`);
  return parts.length > 0 ? `${parts.join(', ')}: ${message}` : message;
}

/** True if `e` is a ChainzError (works across duplicated module copies). */
export function isChainzError(e: unknown): e is ChainzError {
  return e instanceof ChainzError || (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && String((e as { code: string }).code).startsWith('E_') && 'location' in e);
}
