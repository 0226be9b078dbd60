import { ConfigError, DataError, Rng, optionRef } from '@chainz/core';
import { defineAdapter, type BaseLoadOptions, type DatasetSplit, type LoadedDataset } from '../adapter';
import { pathKind, readTextFile, resolveDatasetLocation, sha256File } from '../files';
import { nodeApi } from '../text/node';
import { parsePtbTree, ptbSpanText } from './ptb';

/** SST-5 class names, index = label (0 very negative … 4 very positive). */
export const SST5_CLASS_NAMES: readonly string[] = Object.freeze(['very negative', 'negative', 'neutral', 'positive', 'very positive']);

/** The standard split files, read in this order. */
export const SST5_SPLITS = ['train', 'dev', 'test'] as const;

const HINT =
  'SST-5 needs the PTB tree files train.txt, dev.txt, test.txt (trainDevTestTrees_PTB.zip from https://nlp.stanford.edu/sentiment/); ' +
  `put them in <CHAINZ_DATA_DIR>/sst5/trees/ or pass the folder as ${optionRef('path')}`;

/** Options of the `sst5` adapter. */
export interface Sst5LoadOptions extends BaseLoadOptions {
  /**
   * Train on every labelled phrase of the training trees (the RNTN setting of
   * Socher et al. 2013) instead of whole sentences only. Only `train` changes;
   * `dev` and `test` stay sentence-level (the SST-5 evaluation). Phrases are
   * deduplicated by their text: the first occurrence (file order, each tree
   * pre-order, so sentences before their sub-phrases) is kept, and the number
   * of dropped duplicates whose label disagreed is reported in the provenance
   * notes. Default false.
   */
  phrases?: boolean;
  /**
   * Keep this share of the training split, in (0, 1]: round(f · n) rows
   * (at least 1), drawn stratified by label with a seeded generator (see
   * {@link stratifiedSample}). For quick first runs; recorded in the
   * provenance notes as reduced scale. Applies to the rows of `train` as
   * loaded (phrases with `phrases: true`). Default 1 (all).
   */
  trainFraction?: number;
  /** At most this many training rows (after `trainFraction`), stratified and seeded the same way. Default: no cap. */
  maxTrain?: number;
  /**
   * At most this many rows in each evaluation split (`dev`, `test`, or a
   * single non-train file), stratified and seeded. For smoke runs: results
   * on a capped test split are not the SST-5 figure. Default: no cap.
   */
  maxRows?: number;
  /** Seed of the subsampling above (any integer). Default 0. */
  sampleSeed?: number;
}

/** One parsed split file. */
export interface Sst5SplitData {
  /** Sentence texts (root spans), PTB escapes undone, tokens joined by spaces. */
  texts: string[];
  /** Root label of each sentence, 0..4. */
  labels: Int32Array;
  /** With `phrases`, every distinct labelled phrase (texts and labels). */
  phrases?: { texts: string[]; labels: Int32Array; duplicates: number; conflicts: number };
}

/**
 * Parse the text of one SST PTB tree file (one tree per non-blank line).
 *
 * @param content file content.
 * @param file path used in error messages.
 * @param withPhrases also collect all labelled phrases, deduplicated by text.
 * @throws DataError naming file and line for a malformed tree (see {@link parsePtbTree}).
 */
export function parseSst5Trees(content: string, file: string, withPhrases = false): Sst5SplitData {
  const texts: string[] = [];
  const labels: number[] = [];
  const phraseLabel = new Map<string, number>();
  let duplicates = 0;
  let conflicts = 0;
  const lines = content.split('\n');
  for (let r = 0; r < lines.length; r++) {
    const line = lines[r];
    if (line.trim() === '') continue;
    const tree = parsePtbTree(line, { file, row: r + 1 });
    texts.push(ptbSpanText(tree.tokens));
    labels.push(tree.nodes[0].label);
    if (withPhrases) {
      for (const node of tree.nodes) {
        const text = ptbSpanText(tree.tokens, node.start, node.end);
        const prev = phraseLabel.get(text);
        if (prev === undefined) phraseLabel.set(text, node.label);
        else {
          duplicates++;
          if (prev !== node.label) conflicts++;
        }
      }
    }
  }
  const out: Sst5SplitData = { texts, labels: Int32Array.from(labels) };
  if (withPhrases) {
    out.phrases = {
      texts: [...phraseLabel.keys()],
      labels: Int32Array.from(phraseLabel.values()),
      duplicates,
      conflicts,
    };
  }
  return out;
}

async function locateTrees(options: BaseLoadOptions): Promise<{ dir: string; files: Record<string, string> }> {
  const { path } = await nodeApi();
  const loc = await resolveDatasetLocation(options, 'sst5', HINT);
  const kind = await pathKind(loc.path);
  if (kind === 'file') {
    const name = path.basename(loc.path).replace(/\.txt$/, '');
    return { dir: path.dirname(loc.path), files: { [name]: loc.path } };
  }
  // `<dir>/trees/{train,dev,test}.txt` (the shared layout) or `<dir>/{train,dev,test}.txt`.
  const candidates = [path.join(loc.path, 'trees'), loc.path];
  for (const dir of candidates) {
    if ((await pathKind(path.join(dir, 'train.txt'))) === 'file') {
      const files: Record<string, string> = {};
      for (const s of SST5_SPLITS) files[s] = path.join(dir, `${s}.txt`);
      return { dir, files };
    }
  }
  throw new DataError('SST-5 tree files not found (expected train.txt, dev.txt, test.txt)', { file: path.join(loc.path, 'trees', 'train.txt') }, HINT);
}

/**
 * Load SST-5 from the Stanford Sentiment Treebank PTB tree files.
 *
 * Splits `train` / `dev` / `test` (8544 / 1101 / 2210 sentences in the
 * standard release) with raw `texts` and the root label of each tree; or a
 * single split named after the file when `path` is one `.txt` file. Texts are
 * the leaf tokens with PTB escapes undone (`-LRB-` → `(` …, `\/` → `/`) joined
 * by single spaces — the tokenised form, not detokenised prose.
 *
 * For quick first runs, `trainFraction` / `maxTrain` subsample the training
 * split and `maxRows` caps the evaluation splits (stratified by label,
 * seeded by `sampleSeed`); each reduced split adds a provenance note
 * starting `reduced-scale:`.
 *
 * @throws DataError naming the file and line of a malformed tree, or naming
 *   the missing file with a hint on how to get the data.
 * @throws ConfigError (option `trainFraction`, `maxTrain`, `maxRows` or
 *   `sampleSeed`) for an invalid value.
 */
export async function loadSst5(options: Sst5LoadOptions = {}): Promise<LoadedDataset> {
  const reduce = checkReduceOptions(options);
  const { dir, files } = await locateTrees(options);
  const splits: Record<string, DatasetSplit> = {};
  const notes: string[] = ['texts: PTB escapes undone (-LRB- → ( etc., \\/ → /), tokens joined by single spaces (tokenised, not detokenised)'];
  const paths: string[] = [];
  for (const [name, file] of Object.entries(files)) {
    const content = await readTextFile(file, `SST-5 ${name} trees`, HINT);
    const withPhrases = options.phrases === true && name === 'train';
    const data = parseSst5Trees(content, file, withPhrases);
    if (data.phrases) {
      splits[name] = { texts: data.phrases.texts, labels: data.phrases.labels };
      notes.push(
        `train: all labelled phrases (RNTN setting): ${data.phrases.texts.length} distinct phrases from ${data.texts.length} sentences; ` +
          `${data.phrases.duplicates} repeated phrases dropped (first occurrence kept), ${data.phrases.conflicts} of them with a different label`,
      );
    } else {
      splits[name] = { texts: data.texts, labels: data.labels };
    }
    const reduced = reduceSplit(name, splits[name], reduce);
    if (reduced) {
      splits[name] = reduced.split;
      notes.push(reduced.note);
    }
    paths.push(file);
  }
  const sha256 = await Promise.all(paths.map((f) => sha256File(f)));
  notes.push(`read from ${dir}`);
  return {
    name: 'sst5',
    task: 'ordinal',
    splits,
    classNames: [...SST5_CLASS_NAMES],
    provenance: {
      files: paths,
      sha256,
      source: 'Stanford Sentiment Treebank, PTB-format trees (trainDevTestTrees_PTB), https://nlp.stanford.edu/sentiment/',
      licence: 'none stated for the data; cite Socher et al. 2013',
      citation:
        'Socher, Perelygin, Wu, Chuang, Manning, Ng, Potts (2013). Recursive Deep Models for Semantic Compositionality Over a Sentiment Treebank. EMNLP.',
      notes,
      rows: Object.fromEntries(Object.entries(splits).map(([k, sp]) => [k, sp.labels.length])),
    },
    dispose() {
      // Raw texts only: no tensors to free.
    },
  };
}

interface ReduceOptions {
  trainFraction: number;
  maxTrain: number;
  maxRows: number;
  seed: number;
}

function checkReduceOptions(o: Sst5LoadOptions): ReduceOptions {
  const f = o.trainFraction ?? 1;
  if (!(typeof f === 'number' && f > 0 && f <= 1)) throw new ConfigError(`trainFraction must be in (0, 1], got ${o.trainFraction}`, { option: 'trainFraction' });
  for (const k of ['maxTrain', 'maxRows'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new ConfigError(`${k} must be a positive integer, got ${v}`, { option: k });
  }
  const seed = o.sampleSeed ?? 0;
  if (!Number.isInteger(seed)) throw new ConfigError(`sampleSeed must be an integer, got ${o.sampleSeed}`, { option: 'sampleSeed' });
  return { trainFraction: f, maxTrain: o.maxTrain ?? Infinity, maxRows: o.maxRows ?? Infinity, seed };
}

/** The reduced split and its provenance note, or undefined when the split is kept whole. */
function reduceSplit(name: string, split: DatasetSplit, r: ReduceOptions): { split: DatasetSplit; note: string } | undefined {
  const labels = split.labels as Int32Array;
  const n = labels.length;
  const isTrain = name === 'train';
  const target = isTrain ? Math.min(Math.max(1, Math.round(r.trainFraction * n)), r.maxTrain) : Math.min(n, r.maxRows);
  if (target >= n) return undefined;
  // A seed per split (same sampleSeed ⇒ same rows; splits drawn independently).
  const keep = stratifiedSample(labels, target, r.seed ^ fnv1a(name));
  const why = isTrain
    ? [r.trainFraction < 1 ? `trainFraction ${r.trainFraction}` : '', Number.isFinite(r.maxTrain) ? `maxTrain ${r.maxTrain}` : ''].filter(Boolean).join(', ')
    : `maxRows ${r.maxRows}`;
  return {
    split: { texts: Array.from(keep, (i) => split.texts![i]), labels: Int32Array.from(keep, (i) => labels[i]) },
    note: `reduced-scale: ${name} ${target} of ${n} rows (${why}; stratified by label, sampleSeed ${r.seed}, file order kept)`,
  };
}

/** 32-bit FNV-1a hash of a string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * Stratified sample of exactly `count` rows: class c gets its proportional
 * share count · n_c / n, rounded by largest remainder (ties to the smaller
 * class index) so the shares sum to `count`; the rows of each class are drawn
 * with a seeded Fisher–Yates shuffle (@chainz/core `Rng`).
 * @param labels class index (≥ 0) per row, length n.
 * @param count rows to keep, 1 ≤ count ≤ n.
 * @returns the kept row indices, ascending.
 * @internal exported for tests
 */
export function stratifiedSample(labels: Int32Array, count: number, seed: number): Int32Array {
  const n = labels.length;
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups.get(labels[i]);
    if (g) g.push(i);
    else groups.set(labels[i], [i]);
  }
  const classes = [...groups.keys()].sort((a, b) => a - b);
  const exact = classes.map((c) => (count * groups.get(c)!.length) / n);
  const share = exact.map(Math.floor);
  let left = count - share.reduce((a, b) => a + b, 0);
  const byRemainder = classes.map((_, j) => j).sort((a, b) => exact[b] - share[b] - (exact[a] - share[a]) || a - b);
  for (const j of byRemainder) {
    if (left === 0) break;
    share[j]++;
    left--;
  }
  const rng = new Rng(seed);
  const keep: number[] = [];
  classes.forEach((c, j) => {
    const idx = Int32Array.from(groups.get(c)!);
    rng.shuffle(idx);
    for (let i = 0; i < share[j]; i++) keep.push(idx[i]);
  });
  return Int32Array.from(keep).sort();
}

/** The `sst5` dataset adapter (Stanford Sentiment Treebank, 5 classes). */
export const sst5Adapter = defineAdapter<Sst5LoadOptions>({
  name: 'sst5',
  describe: () => ({
    name: 'sst5',
    title: 'SST-5 (Stanford Sentiment Treebank, fine-grained, 5 classes)',
    task: 'ordinal',
    modality: 'text',
    source: 'PTB tree files {train,dev,test}.txt from the path option or <CHAINZ_DATA_DIR>/sst5/trees/',
    builtIn: false,
  }),
  load: loadSst5,
});
