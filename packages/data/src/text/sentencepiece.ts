/**
 * SentencePiece unigram tokenizer for the Universal Sentence Encoder lite
 * vocabulary (`vocab.json`: `[piece, log-probability][]`, 8000 entries).
 *
 * Behaviour (kept identical to the tokenizer of
 * `@tensorflow-models/universal-sentence-encoder` 1.3.3, which the USE-lite
 * graph was exported with; a parity test checks it on thousands of texts):
 * 1. NFKC-normalise; if non-empty, prefix `▁` (U+2581) and replace every
 *    ASCII space by `▁` (other whitespace is kept, and becomes unknown).
 * 2. Viterbi over code points: a piece may start at every position; where no
 *    vocabulary piece starts, the single character is an unknown piece (id 0,
 *    score 0). A path's score is the sum of piece scores (a `null` score
 *    counts as 0). For each end position candidates are taken by ascending
 *    start; a candidate replaces the current best if its score is `>=` it, or
 *    if the current best is exactly 0.
 * 3. Runs of unknown pieces are merged into one id 0.
 * The first `reserved` entries (unk, `<s>`, `</s>`, 3 extras) are never
 * matched; a piece listed twice keeps its last entry.
 */
export class UnigramTokenizer {
  private readonly root: TrieNode = newNode();

  /**
   * @param vocabulary `[piece, score]` pairs; index = token id.
   * @param reserved number of leading special entries not matched in text (default 6).
   */
  constructor(vocabulary: ReadonlyArray<readonly [string, number | null]>, reserved = 6) {
    for (let id = reserved; id < vocabulary.length; id++) {
      const [piece, score] = vocabulary[id];
      let node = this.root;
      for (const ch of piece) {
        const cp = ch.codePointAt(0)!;
        let next = node.children.get(cp);
        if (!next) {
          next = newNode();
          node.children.set(cp, next);
        }
        node = next;
      }
      if (node !== this.root) {
        node.id = id;
        node.score = score ?? 0;
      }
    }
  }

  /**
   * Token ids of `text` (no start/end tokens added).
   * @returns ids in `0 … vocabulary.length-1`; `[]` for a text that is empty after NFKC.
   */
  encode(text: string): number[] {
    const normalized = text.normalize('NFKC');
    if (normalized.length === 0) return [];
    const cps = Array.from(`\u2581${normalized.replace(/ /g, '\u2581')}`, (c) => c.codePointAt(0)!);
    const n = cps.length;
    const best = new Float64Array(n + 1);
    const bestId = new Int32Array(n + 1);
    const bestLen = new Int32Array(n + 1);
    const relax = (start: number, end: number, score: number, id: number) => {
      const s = score + best[start];
      if (best[end] === 0 || s >= best[end]) {
        best[end] = s;
        bestId[end] = id;
        bestLen[end] = end - start;
      }
    };
    // Forward relaxation by ascending start: best[start] is final when used,
    // and candidates for one end arrive by ascending start.
    for (let i = 0; i < n; i++) {
      let node: TrieNode | undefined = this.root;
      let matched = false;
      for (let j = i; j < n; j++) {
        node = node.children.get(cps[j]);
        if (!node) break;
        if (node.id >= 0) {
          relax(i, j + 1, node.score, node.id);
          matched = true;
        }
      }
      if (!matched) relax(i, i + 1, 0, 0);
    }
    const ids: number[] = [];
    for (let p = n; p > 0; p -= bestLen[p]) {
      const id = bestId[p];
      if (!(id === 0 && ids.length > 0 && ids[ids.length - 1] === 0)) ids.push(id);
    }
    return ids.reverse();
  }
}

interface TrieNode {
  children: Map<number, TrieNode>;
  /** Token id of the piece ending here, -1 if none. */
  id: number;
  score: number;
}

function newNode(): TrieNode {
  return { children: new Map(), id: -1, score: 0 };
}
