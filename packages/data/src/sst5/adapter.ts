import { DataError, optionRef } from '@chainz/core';
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
 * @throws DataError naming the file and line of a malformed tree, or naming
 *   the missing file with a hint on how to get the data.
 */
export async function loadSst5(options: Sst5LoadOptions = {}): Promise<LoadedDataset> {
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
