/** Helpers shared by the CSV readers (not part of the package's public API). */
import { ConfigError, DataError } from '@chainz/core';

/** Delimiters recognised by `delimiter: 'auto'`, in tie-break order. */
export const CSV_DELIMITERS = [',', ';', '\t'] as const;

/** A cell text for a message: JSON-quoted, cut to 40 characters. */
export function show(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
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
        `pass delimiter ${delimiterName(best[0])} (or 'auto')`,
      );
    }
    return requested;
  }
  if (best[1] === 0) {
    throw new DataError(
      `no delimiter found in line ${number} (looked for ',', ';' and tab); a table needs at least two columns (features and a label)`,
      { file, row: number },
      'pass the delimiter explicitly if the file uses another one',
    );
  }
  return best[0];
}

