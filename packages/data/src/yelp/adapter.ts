import { ConfigError, DataError, optionRef } from '@chainz/core';
import { defineAdapter, type BaseLoadOptions, type DatasetSplit, type LoadedDataset } from '../adapter';
import { pathKind, resolveDatasetLocation, sha256File } from '../files';
import { nodeApi } from '../text/node';

/** Yelp Review Full class names, index = stars − 1. */
export const YELP_CLASS_NAMES: readonly string[] = Object.freeze(['1 star', '2 stars', '3 stars', '4 stars', '5 stars']);

/** File name of the 1000-review sample shipped in the shared data folder. */
export const YELP_SAMPLE_FILE = 'yelp_review_full_train_sample1000.csv';

const HINT =
  'Yelp Review Full: put the official train.csv/test.csv (yelp_review_full_csv, Zhang et al. 2015) or a label,text,id sample ' +
  `(${YELP_SAMPLE_FILE}) in <CHAINZ_DATA_DIR>/yelp/, or pass a file or folder as ${optionRef('path')}`;

/**
 * The two CSV layouts the adapter reads:
 * - `official`: no header, columns `"stars","text"`, stars 1..5 (the
 *   `yelp_review_full_csv` release);
 * - `sample`: header `label,text[,id]`, label 0..4 = stars − 1 (the shared
 *   sample and Hugging Face `yelp_review_full` exports).
 */
export type YelpLayout = 'official' | 'sample';

/** Options of the `yelp` adapter. */
export interface YelpLoadOptions extends BaseLoadOptions {
  /** Keep only the first `maxRows` reviews of each file (file order). Default: all. */
  maxRows?: number;
  /**
   * Undo the dataset's escapes in the review text: the two characters `\n`
   * become a newline and `\"` becomes `"`. Default true.
   */
  unescape?: boolean;
}

/** One parsed Yelp CSV file. */
export interface YelpFileData {
  layout: YelpLayout;
  texts: string[];
  /** Class index = stars − 1 (0..4). */
  labels: Int32Array;
  /** True if `maxRows` stopped reading before the end of the file. */
  truncated: boolean;
}

/** Undo the Yelp Review Full text escapes (`\n` → newline, `\"` → `"`). */
export function unescapeYelpText(text: string): string {
  return text.includes('\\') ? text.replace(/\\n/g, '\n').replace(/\\"/g, '"') : text;
}

/**
 * Stream-parse one Yelp Review Full CSV (csv-parse), detecting its layout
 * from the first record: a header containing `label` and `text` means the
 * `sample` layout (columns found by name), two columns whose first is an
 * integer 1..5 the header-less `official` layout.
 *
 * @param file path of the CSV.
 * @param options `maxRows` and `unescape` as in {@link YelpLoadOptions}.
 * @throws DataError naming file, row and column for an unrecognised layout,
 *   a malformed CSV record, a wrong column count or a label/stars value out of
 *   range; naming the file when it is empty or holds only a header row.
 */
export async function readYelpCsv(file: string, options: { maxRows?: number; unescape?: boolean } = {}): Promise<YelpFileData> {
  const { fs } = await nodeApi();
  const { parse } = await import('csv-parse');
  const maxRows = options.maxRows ?? Infinity;
  const unescape = options.unescape ?? true;
  const texts: string[] = [];
  const labels: number[] = [];
  let layout: YelpLayout | undefined;
  let labelCol = 0;
  let textCol = 1;
  let width = 2;
  let truncated = false;

  const input = fs.createReadStream(file);
  const parser = input.pipe(parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true }));
  const openError = new Promise<never>((_, reject) => input.once('error', reject));
  openError.catch(() => undefined);
  try {
    const iterate = async () => {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        const row = info.lines;
        if (layout === undefined) {
          const lower = record.map((c) => c.trim().toLowerCase());
          if (lower.includes('label') && lower.includes('text')) {
            layout = 'sample';
            labelCol = lower.indexOf('label');
            textCol = lower.indexOf('text');
            width = record.length;
            continue; // header row
          }
          if (record.length === 2 && /^[1-5]$/.test(record[0].trim())) {
            layout = 'official';
          } else {
            throw new DataError(
              'unrecognised Yelp CSV layout: expected a header with "label" and "text" columns, or header-less "stars","text" rows with stars 1..5',
              { file, row },
              HINT,
            );
          }
        }
        if (texts.length >= maxRows) {
          truncated = true;
          break;
        }
        if (record.length !== width) {
          throw new DataError(`expected ${width} columns, found ${record.length}`, { file, row });
        }
        const raw = record[labelCol].trim();
        const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
        const label = layout === 'official' ? value - 1 : value;
        if (!(label >= 0 && label <= 4)) {
          const what = layout === 'official' ? 'stars must be an integer 1..5' : 'label must be an integer 0..4 (stars − 1)';
          throw new DataError(`${what}, got "${record[labelCol]}"`, { file, row, column: layout === 'official' ? 1 : 'label' });
        }
        labels.push(label);
        texts.push(unescape ? unescapeYelpText(record[textCol]) : record[textCol]);
      }
    };
    await Promise.race([iterate(), openError]);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new DataError('Yelp CSV not found', { file }, HINT, { cause: e });
    const lines = (e as { lines?: number }).lines;
    throw new DataError(`malformed CSV: ${(e as Error).message}`, { file, row: lines }, undefined, { cause: e });
  } finally {
    input.destroy();
  }
  if (layout === undefined) throw new DataError('Yelp CSV is empty', { file }, HINT);
  if (texts.length === 0) throw new DataError('no reviews: the file holds only a header row', { file }, HINT);
  return { layout, texts, labels: Int32Array.from(labels), truncated };
}

/** Which files to read, split name → path. */
async function locateYelp(options: BaseLoadOptions): Promise<Record<string, string>> {
  const { path } = await nodeApi();
  const loc = await resolveDatasetLocation(options, 'yelp', HINT);
  const kind = await pathKind(loc.path);
  if (kind === 'file') {
    const base = path.basename(loc.path).replace(/\.csv$/i, '');
    return { [base === 'train' || base === 'test' ? base : 'all']: loc.path };
  }
  if (kind === 'dir') {
    // The official release first (also inside its own yelp_review_full_csv/ folder), else the sample.
    for (const dir of [loc.path, path.join(loc.path, 'yelp_review_full_csv')]) {
      const files: Record<string, string> = {};
      for (const s of ['train', 'test']) {
        const f = path.join(dir, `${s}.csv`);
        if ((await pathKind(f)) === 'file') files[s] = f;
      }
      if (Object.keys(files).length > 0) return files;
    }
    const sample = path.join(loc.path, YELP_SAMPLE_FILE);
    if ((await pathKind(sample)) === 'file') return { all: sample };
  }
  throw new DataError(`Yelp Review Full not found (looked for train.csv, test.csv or ${YELP_SAMPLE_FILE})`, { file: loc.path }, HINT);
}

/**
 * Load Yelp Review Full (Zhang et al. 2015), 5-class review rating.
 *
 * Where: the `path` option (a CSV file, or a folder) else
 * `<dataDir ?? CHAINZ_DATA_DIR>/yelp/`. In a folder the official
 * `train.csv` / `test.csv` are read if present (splits `train`, `test`),
 * otherwise the shared sample `yelp_review_full_train_sample1000.csv`
 * (split `all`). A single file becomes split `train`/`test` when so named,
 * else `all`. The layout of each file is detected ({@link YelpLayout}) and
 * recorded in the provenance notes; a `sample`-layout file is noted as a
 * reduced-scale sample with its review count.
 *
 * @throws DataError naming the file (and row/column) when it is missing or malformed.
 * @throws ConfigError (option `maxRows`) unless `maxRows` is a positive integer.
 */
export async function loadYelp(options: YelpLoadOptions = {}): Promise<LoadedDataset> {
  if (options.maxRows !== undefined && !(Number.isInteger(options.maxRows) && options.maxRows > 0)) {
    throw new ConfigError(`maxRows must be a positive integer, got ${options.maxRows}`, { option: 'maxRows' });
  }
  const files = await locateYelp(options);
  const splits: Record<string, DatasetSplit> = {};
  const notes: string[] = [];
  const paths = Object.values(files);
  for (const [name, file] of Object.entries(files)) {
    const d = await readYelpCsv(file, options);
    splits[name] = { texts: d.texts, labels: d.labels };
    notes.push(
      d.layout === 'official'
        ? `${name}: official header-less "stars","text" layout (stars 1..5), ${d.texts.length} reviews`
        : `${name}: label,text,id sample layout (label = stars − 1), reduced-scale sample (${d.texts.length} reviews)`,
    );
    if (d.truncated) notes.push(`${name}: first ${d.texts.length} reviews only (maxRows), reduced-scale`);
  }
  notes.push(options.unescape === false ? 'texts: raw (\\n and \\" escapes kept)' : 'texts: \\n escapes turned into newlines, \\" into "');
  const sha256 = await Promise.all(paths.map((f) => sha256File(f)));
  return {
    name: 'yelp',
    task: 'ordinal',
    splits,
    classNames: [...YELP_CLASS_NAMES],
    provenance: {
      files: paths,
      sha256,
      source: 'Yelp Review Full (yelp_review_full_csv), Zhang, Zhao & LeCun 2015, from the Yelp Dataset Challenge 2015',
      licence: 'Yelp Dataset terms (research use)',
      citation: 'Zhang, Zhao, LeCun (2015). Character-level Convolutional Networks for Text Classification. NeurIPS.',
      notes,
      rows: Object.fromEntries(Object.entries(splits).map(([k, sp]) => [k, sp.labels.length])),
    },
    dispose() {
      // Raw texts only: no tensors to free.
    },
  };
}

/** The `yelp` dataset adapter (Yelp Review Full, 1–5 stars). */
export const yelpAdapter = defineAdapter<YelpLoadOptions>({
  name: 'yelp',
  describe: () => ({
    name: 'yelp',
    title: 'Yelp Review Full (1–5 stars)',
    task: 'ordinal',
    modality: 'text',
    source: `official train.csv/test.csv or the ${YELP_SAMPLE_FILE} sample from the path option or <CHAINZ_DATA_DIR>/yelp/`,
    builtIn: false,
  }),
  load: loadYelp,
});
