/**
 * Text for the terminal: every `chainz bench` command keeps its printed lines
 * within {@link TERMINAL_COLUMNS} (Markdown table rows are left whole; the
 * full tables and text go to summary.md).
 */

/** Width of the terminal output. */
export const TERMINAL_COLUMNS = 120;

/**
 * Break a line at spaces so that no piece is longer than `width`; the line's
 * own indentation is kept and continuation lines start with `continuation`
 * (default: that indentation plus two spaces). A single longer word is kept whole.
 */
export function wrapLine(line: string, width = TERMINAL_COLUMNS, continuation?: string): string[] {
  if (line.length <= width) return [line];
  const indent = /^ */.exec(line)![0];
  const next = continuation ?? `${indent}  `;
  const out: string[] = [];
  let cur = indent;
  for (const word of line.slice(indent.length).split(' ')) {
    const joined = cur.trim() === '' ? cur + word : `${cur} ${word}`;
    if (joined.length > width && cur.trim() !== '') {
      out.push(cur);
      cur = next + word;
    } else cur = joined;
  }
  if (cur.trim() !== '') out.push(cur);
  return out;
}

/** Wrap every line of `text` that is not a table row (`| …`) with {@link wrapLine}. */
export function wrapForTerminal(text: string, width = TERMINAL_COLUMNS): string {
  return text
    .split('\n')
    .flatMap((l) => (l.startsWith('|') ? [l] : wrapLine(l, width)))
    .join('\n');
}
