import { DataError } from '@chainz/core';

/**
 * One labelled node of a PTB-format sentiment tree: its label and the span of
 * leaf tokens it covers, `tokens.slice(start, end)`.
 */
export interface PtbNode {
  /** Sentiment label (SST: 0 very negative … 4 very positive). */
  label: number;
  /** Index of the first leaf token covered (inclusive). */
  start: number;
  /** Index one past the last leaf token covered (exclusive). */
  end: number;
}

/** A parsed tree: leaf tokens in order and every node in pre-order. */
export interface PtbTree {
  /** Leaf tokens as written in the file (PTB escapes kept; see {@link unescapePtbToken}). */
  tokens: string[];
  /** Every labelled node in pre-order; `nodes[0]` is the root (the sentence). */
  nodes: PtbNode[];
}

/** Where a tree came from, for error messages. */
export interface PtbSource {
  file?: string;
  /** 1-based line number. */
  row?: number;
}

/**
 * Parse one tree in the Stanford Sentiment Treebank's PTB format,
 * `(label (label word) (label (label word) (label word)))`: every node is
 * `( LABEL WORD )` or `( LABEL SUBTREE+ )`, labels are integers `0 … maxLabel`.
 *
 * @param line the tree, normally one line of `train.txt` / `dev.txt` / `test.txt`.
 * @param source file and 1-based line for error messages.
 * @param maxLabel largest valid label (default 4, SST-5).
 * @returns leaf tokens and nodes (pre-order, root first); O(length of line), any
 *   nesting depth (iterative: no call-stack limit).
 * @throws DataError naming file, row and the 1-based character column for
 *   unbalanced parentheses, a missing or non-integer label, a label above
 *   `maxLabel`, an empty node or text after the tree.
 */
export function parsePtbTree(line: string, source: PtbSource = {}, maxLabel = 4): PtbTree {
  const tokens: string[] = [];
  const nodes: PtbNode[] = [];
  const n = line.length;
  let i = 0;

  const fail = (msg: string, at = i): never => {
    throw new DataError(`malformed PTB tree: ${msg}`, { file: source.file, row: source.row, column: at + 1 });
  };
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
  const skipSpace = () => {
    while (i < n && isSpace(line[i])) i++;
  };
  const readAtom = (): string => {
    const s = i;
    while (i < n && line[i] !== '(' && line[i] !== ')' && !isSpace(line[i])) i++;
    return line.slice(s, i);
  };

  // Iterative (an explicit stack of open nodes): any nesting depth, no call-stack limit.
  const open: { node: PtbNode; leaf: boolean }[] = [];
  /** At "(": read the label, then either a word (a leaf) or nothing yet (children follow). */
  const openNode = (): void => {
    i++;
    skipSpace();
    const labelAt = i;
    const label = readAtom();
    if (label === '') fail('missing label after "("', labelAt);
    if (!/^\d+$/.test(label) || Number(label) > maxLabel) fail(`bad label "${label.length > 40 ? `${label.slice(0, 40)}…` : label}" (expected an integer 0..${maxLabel})`, labelAt);
    const node: PtbNode = { label: Number(label), start: tokens.length, end: -1 };
    nodes.push(node);
    skipSpace();
    if (line[i] === '(') {
      open.push({ node, leaf: false });
      return;
    }
    const wordAt = i;
    const word = readAtom();
    if (word === '') fail(i >= n ? 'unbalanced parentheses: the line ends inside a node' : 'empty node: expected a word or a subtree', wordAt);
    tokens.push(word);
    skipSpace();
    open.push({ node, leaf: true });
  };

  skipSpace();
  if (line[i] !== '(') fail(i >= n ? 'unexpected end of line, expected "("' : `expected "(" but found "${line[i]}"`);
  openNode();
  while (open.length > 0) {
    const top = open[open.length - 1];
    if (!top.leaf && line[i] === '(') {
      openNode();
      continue;
    }
    if (i >= n) fail('unbalanced parentheses: the line ends before ")"');
    if (line[i] !== ')') fail(`expected ")" but found "${line[i]}"`);
    i++;
    open.pop();
    top.node.end = tokens.length;
    skipSpace();
  }
  if (i < n) fail(line[i] === ')' ? 'unbalanced parentheses: extra ")"' : 'unexpected text after the end of the tree');
  return { tokens, nodes };
}

/** PTB bracket escapes and what they stand for. */
export const PTB_ESCAPES: Readonly<Record<string, string>> = Object.freeze({
  '-LRB-': '(',
  '-RRB-': ')',
  '-LSB-': '[',
  '-RSB-': ']',
  '-LCB-': '{',
  '-RCB-': '}',
});

/**
 * Undo the PTB escapes of one token: the bracket tokens (`-LRB-` → `(`, …,
 * `-RCB-` → `}`) and backslash escapes `\/` → `/`, `\*` → `*`. Quote tokens
 * (`` `` `` and `''`) and other tokenisation (e.g. `does n't`) are kept.
 */
export function unescapePtbToken(token: string): string {
  return PTB_ESCAPES[token] ?? (token.includes('\\') ? token.replace(/\\([/*])/g, '$1') : token);
}

/**
 * Text of a span of tokens: PTB escapes undone ({@link unescapePtbToken}),
 * tokens joined by single spaces (no detokenisation of punctuation spacing).
 */
export function ptbSpanText(tokens: readonly string[], start = 0, end = tokens.length): string {
  let s = '';
  for (let k = start; k < end; k++) s += (k > start ? ' ' : '') + unescapePtbToken(tokens[k]);
  return s;
}
