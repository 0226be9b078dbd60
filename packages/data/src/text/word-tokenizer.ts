/**
 * Word tokenizer for GloVe-style word vectors (lower-cased, Penn-Treebank-like
 * tokens, as in GloVe's Wikipedia + Gigaword vocabulary). See `docs/text.md`
 * ("GloVe encoder: tokenizer").
 *
 * Two steps:
 * 1. {@link wordTokens}: normalise and split a text into tokens, whatever its
 *    form — raw prose ("Don't!") or the tokenised PTB form of SST-5
 *    ("Do n't !", with `` `` `` / `''` quotes and possibly `-LRB-` escapes).
 *    Both give the same tokens.
 * 2. {@link resolveTokens}: look each token up in a vocabulary, backing off
 *    for compounds and accented words that are not in it.
 */

/** Version of the tokenizer rules; part of the GloVe encoder id (changing the rules changes the id). */
export const WORD_TOKENIZER_VERSION = 1;

/** Contractions (after splitting, as PTB does) mapped to the full word the vectors know. */
const CONTRACTIONS: Readonly<Record<string, string>> = Object.freeze({
  "n't": 'not',
  "'re": 'are',
  "'ve": 'have',
  "'ll": 'will',
  "'m": 'am',
  // 's (is / has / possessive) and 'd (had / would) are ambiguous: kept as is.
});

/** PTB bracket escapes (lower-cased), in case a text still has them. */
const PTB_BRACKETS: Readonly<Record<string, string>> = Object.freeze({
  '-lrb-': '(',
  '-rrb-': ')',
  '-lsb-': '[',
  '-rsb-': ']',
  '-lcb-': '{',
  '-rcb-': '}',
});

// A word: letters/digits, optionally joined by inner hyphens, slashes or dots
// ("well-known", "and/or", "u.s", "3.5"); a split-off clitic; or any other
// single non-space character (punctuation, symbols, emoji).
const TOKEN = /n't|'(?:s|re|ve|ll|m|d)(?![\p{L}\p{N}])|-(?:lrb|rrb|lsb|rsb|lcb|rcb)-|[\p{L}\p{N}]+(?:[-/.][\p{L}\p{N}]+)*|…|\S/gu;

/**
 * Normalise and split a text into lower-case word tokens.
 *
 * Rules, in order:
 * - Unicode NFKC, then lower case.
 * - Quotes: PTB `` `` `` and `''`, typographic “ ” „ → `"`; ‘ ’ → `'`.
 * - Dashes: `--`, — (em), – (en) → `-`; a run of two or more dots → `…`.
 * - Contractions split as in the Penn Treebank: "don't" → `do n't`,
 *   "can't" → `ca n't`, "won't" → `wo n't`, "he's" → `he 's`, and the same
 *   for 're 've 'll 'm 'd. (The PTB form "do n't" is already split.)
 * - Clitics with one meaning are written out: n't → `not`, 're → `are`,
 *   've → `have`, 'll → `will`, 'm → `am`; `'s` and `'d` are ambiguous
 *   and kept.
 * - PTB bracket escapes still in the text: `-lrb-` → `(` … `-rcb-` → `}`.
 * - Tokens: words (letters and digits, with inner `-`, `/` or `.` kept inside
 *   one token: "well-known", "and/or", "u.s"), clitics, and every other
 *   non-space character on its own.
 *
 * @param text any text.
 * @returns the tokens, in order (empty for a text without any).
 */
export function wordTokens(text: string): string[] {
  let s = text.normalize('NFKC').toLowerCase();
  s = s
    .replace(/``|''|[“”„]/g, ' " ')
    .replace(/[‘’]/g, "'")
    .replace(/--+|[—–]/g, ' - ')
    .replace(/\.{2,}/g, ' … ')
    // Split contractions glued to their word (raw prose), PTB style.
    .replace(/([\p{L}])n't(?![\p{L}\p{N}])/gu, "$1 n't")
    .replace(/([\p{L}\p{N}])'(s|re|ve|ll|m|d)(?![\p{L}\p{N}])/gu, "$1 '$2");
  const out: string[] = [];
  for (const m of s.matchAll(TOKEN)) {
    const t = m[0];
    out.push(CONTRACTIONS[t] ?? PTB_BRACKETS[t] ?? t);
  }
  return out;
}

/** One token after vocabulary lookup (see {@link resolveTokens}). */
export interface ResolvedToken {
  /** The token as {@link wordTokens} produced it. */
  token: string;
  /**
   * Vocabulary rows it maps to: one row for a known token, one per known
   * part for a compound that backed off, none when out of vocabulary.
   */
  rows: number[];
}

/**
 * Look tokens up in a vocabulary, with two back-offs for a token that is not
 * in it:
 * 1. without diacritics (NFD, combining marks removed): "café" → `cafe`;
 * 2. a compound with `-`, `/` or `.` is split into its parts, each looked
 *    up (with back-off 1); the parts found are used, the separators dropped:
 *    "jean-claude" → `jean`, `claude`; "and/or" → `and`, `or`.
 * A token with none of these in the vocabulary is out of vocabulary (OOV).
 *
 * @param tokens from {@link wordTokens}.
 * @param index word → row of the vectors matrix.
 * @returns one entry per token, in order.
 */
export function resolveTokens(tokens: readonly string[], index: ReadonlyMap<string, number>): ResolvedToken[] {
  return tokens.map((token) => ({ token, rows: lookup(token, index) }));
}

function lookup(token: string, index: ReadonlyMap<string, number>): number[] {
  const direct = lookupOne(token, index);
  if (direct !== undefined) return [direct];
  if (token.length > 1 && /[-/.]/.test(token)) {
    const rows: number[] = [];
    for (const part of token.split(/[-/.]+/)) {
      if (part === '') continue;
      const r = lookupOne(part, index);
      if (r !== undefined) rows.push(r);
    }
    return rows;
  }
  return [];
}

function lookupOne(word: string, index: ReadonlyMap<string, number>): number | undefined {
  const r = index.get(word);
  if (r !== undefined) return r;
  const plain = word.normalize('NFD').replace(/\p{M}+/gu, '');
  return plain !== word ? index.get(plain) : undefined;
}
