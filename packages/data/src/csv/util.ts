/** Helpers shared by the CSV readers (not part of the package's public API). */
import { ConfigError, DataError, optionClause, optionRef } from '@chainz/core';

/** Delimiters recognised by `delimiter: 'auto'`, in tie-break order. */
export const CSV_DELIMITERS = [',', ';', '\t'] as const;

/** Longest cell text a message quotes (as displayed, escapes included). */
const SHOWN = 40;

/**
 * A cell text for a message: JSON-quoted, cut to 40 characters as displayed
 * (an escape such as `\u0000` counts as its 6 characters and is never split).
 */
export function show(v: string): string {
  const s = JSON.stringify(v);
  if (s.length <= SHOWN + 2) return s;
  let out = '';
  for (const ch of v) {
    const e = JSON.stringify(ch).slice(1, -1);
    if (out.length + e.length > SHOWN - 3) break;
    out += e;
  }
  return `"${out}..."`;
}

/** A name (e.g. a header cell) for a message, unquoted: cut to 40 characters. */
export function clip(v: string): string {
  return v.length > SHOWN ? `${v.slice(0, SHOWN - 3)}...` : v;
}

/** Header names for a message: each cut to 40 characters, at most 20 of them. */
export function columnList(header: readonly string[]): string {
  return header.slice(0, 20).map(clip).join(', ') + (header.length > 20 ? `, … (${header.length} columns)` : '');
}

/**
 * csv-parse's error text with every quoted value in it cut as {@link show}
 * does (csv-parse quotes the whole field, e.g. ~1 KB of a binary file), and
 * the whole text to 200 characters.
 */
export function csvParseMessage(message: string): string {
  const short = message.replace(/"((?:[^"\\]|\\.)*)"/g, (q: string, inner: string) => {
    try {
      return show(JSON.parse(`"${inner}"`) as string);
    } catch {
      return q.length > SHOWN + 2 ? `${q.slice(0, SHOWN - 2)}..."` : q;
    }
  });
  return short.length > 200 ? `${short.slice(0, 197)}...` : short;
}

/** Bytes looked at for a NUL byte by {@link checkTextCsv}. */
const SNIFF = 8192;

/**
 * Refuse a file that is not CSV text before parsing it: gzip or zip bytes,
 * UTF-16 text, or a NUL in the first 8 KB (a binary file). Without this the
 * parser would quote garbage at length.
 * @param data the file's bytes, or text given in memory.
 * @throws DataError naming the file.
 */
export function checkTextCsv(data: Uint8Array | string, file: string): void {
  if (typeof data === 'string') {
    const at = data.slice(0, SNIFF).indexOf('\0');
    if (at >= 0) throw new DataError(`not a text CSV file (NUL character at position ${at})`, { file }, 'is it a binary file? pass the text of a CSV file');
    return;
  }
  const b = data;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    throw new DataError('gzip-compressed: decompress it first', { file }, 'e.g. `gunzip -k FILE` writes the CSV file beside it');
  }
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) {
    throw new DataError('a zip archive (or an .xlsx workbook), not a text CSV file', { file }, 'extract the CSV file, or export the sheet as CSV');
  }
  if (b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff))) {
    throw new DataError('UTF-16 text; CSV files are read as UTF-8', { file }, 'save the file as UTF-8 (e.g. "CSV UTF-8" in a spreadsheet)');
  }
  const at = b.subarray(0, SNIFF).indexOf(0);
  if (at >= 0) throw new DataError(`not a text CSV file (NUL byte at offset ${at})`, { file }, 'is it a binary file? pass a CSV text file');
}

/** `tab` or the quoted delimiter, for messages. */
export function delimiterName(d: string): string {
  return d === '\t' ? 'tab' : `'${d}'`;
}

/** Count each candidate delimiter outside double quotes in one line. */
function countDelimiters(line: string): Map<string, number> {
  const counts = new Map<string, number>(CSV_DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  return counts;
}

function firstLine(text: string): { line: string; number: number } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const i = lines.findIndex((l) => l.trim() !== '');
  return { line: i < 0 ? '' : lines[i], number: i + 1 };
}

/**
 * The delimiter to use: `requested`, checked against the first non-empty
 * line, or for `'auto'` the most frequent of `,` `;` tab in it (ties in that order).
 * @throws DataError (file, row) when `requested` does not occur but another
 *   candidate does, or `'auto'` finds none; ConfigError for an empty `requested`.
 */
export function chooseDelimiter(text: string, requested: 'auto' | string, file: string): string {
  const { line, number } = firstLine(text);
  const counts = countDelimiters(line);
  const best = [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
  if (requested !== 'auto') {
    if (typeof requested !== 'string' || requested.length === 0) {
      throw new ConfigError(`delimiter must be 'auto' or a non-empty string, got ${JSON.stringify(requested)}`, { option: 'delimiter' });
    }
    if (!line.includes(requested) && best[1] > 0 && best[0] !== requested) {
      throw new DataError(
        `wrong delimiter: line ${number} contains no ${delimiterName(requested)} but ${best[1]} ${delimiterName(best[0])}`,
        { file, row: number },
        optionClause('delimiter', `pass ${optionRef('delimiter')} ${delimiterName(best[0])} (or 'auto')`, `separate the columns with ${delimiterName(best[0])}`),
      );
    }
    return requested;
  }
  if (best[1] === 0) {
    throw new DataError(
      `no delimiter found in line ${number} (looked for ',', ';' and tab); a table needs at least two columns (features and a label)`,
      { file, row: number },
      optionClause('delimiter', `pass ${optionRef('delimiter')} explicitly if the file uses another one`, "separate the columns with ',', ';' or tab"),
    );
  }
  return best[0];
}

