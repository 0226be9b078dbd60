// @ts-check
/**
 * A ChainzRule-TS plugin with one dataset adapter, `dna-junction`: the
 * Statlog primate splice-junction data restricted to the window around the
 * junction (attributes V61-V120, the 20 nucleotides nearest the junction).
 *
 * Plain JavaScript (ES module), so `chainz --plugin <this folder>` loads it
 * with no build step. Its only import is `@chainz/data`, which also makes the
 * tensors: the plugin never ends up with a tfjs copy of its own.
 */
import { createTabularDataset, DataError, decodeUtf8, defineAdapter, optionRef, readDataFile, resolveDataPath } from '@chainz/data';

/** The adapter's name: what users type after `--dataset`. */
export const NAME = 'dna-junction';

/** Where the file lives under a data directory (the shared copy of the full set). */
export const RELATIVE_PATH = 'uci/dna.csv';

/** sha256 of the reference copy of `uci/dna.csv` (the data folder's MANIFEST). */
export const REFERENCE_SHA256 = 'b5f49dcb946b7711296ab7f07979dea0407e3b9eeaca4f4bc3d760c312fdffb6';

/** The file's 180 attribute columns; we keep V61 … V120 (1-based, inclusive). */
export const ALL_ATTRIBUTES = 180;
export const WINDOW = { first: 61, last: 120 };

/** Classes in index order: exon/intron boundary, intron/exon boundary, neither. */
export const CLASS_NAMES = ['ei', 'ie', 'n'];

const HINT =
  `this plugin reads the Statlog DNA file exported from R's mlbench (header V1,…,V180,class; 0/1 cells): ` +
  `put it at <data dir>/${RELATIVE_PATH} and set CHAINZ_DATA_DIR, or pass the file as ${optionRef('path')}`;

/**
 * Parse the DNA CSV: a header `V1,…,V180,class`, then rows of 180 cells of
 * `0`/`1` and a class `ei`, `ie` or `n`. Written out by hand (the format is
 * fixed and has no quoting) to show an adapter's own validation.
 *
 * @param {string} text file content
 * @param {string} file path, for messages
 * @returns {{ x: Float32Array, labels: Int32Array, n: number }} x is `[n, 60]` row-major
 * @throws DataError naming the file, line and column of the first problem
 */
export function parseDnaWindow(text, file) {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',');
  const expected = [...Array.from({ length: ALL_ATTRIBUTES }, (_, j) => `V${j + 1}`), 'class'];
  const wrong = expected.findIndex((name, j) => header[j] !== name);
  if (wrong >= 0 || header.length !== expected.length) {
    const j = wrong >= 0 ? wrong : expected.length;
    throw new DataError(`expected the header V1,…,V180,class; column ${j + 1} is ${JSON.stringify(header[j] ?? '(missing)')}`, { file, row: 1, column: j + 1 }, HINT);
  }
  const d = WINDOW.last - WINDOW.first + 1;
  /** @type {number[]} */
  const values = [];
  /** @type {number[]} */
  const labels = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const cells = line.split(',');
    if (cells.length !== expected.length) {
      throw new DataError(`expected ${expected.length} cells, found ${cells.length}`, { file, row: i + 1 });
    }
    for (let j = WINDOW.first - 1; j < WINDOW.last; j++) {
      const c = cells[j];
      if (c !== '0' && c !== '1') throw new DataError(`expected 0 or 1, found ${JSON.stringify(c)}`, { file, row: i + 1, column: `${j + 1} (V${j + 1})` });
      values.push(c === '1' ? 1 : 0);
    }
    const k = CLASS_NAMES.indexOf(cells[ALL_ATTRIBUTES]);
    if (k < 0) {
      throw new DataError(`class ${JSON.stringify(cells[ALL_ATTRIBUTES])} is not one of ${CLASS_NAMES.join(', ')}`, { file, row: i + 1, column: `${ALL_ATTRIBUTES + 1} (class)` });
    }
    labels.push(k);
  }
  if (labels.length === 0) throw new DataError('no data rows (only a header line)', { file, row: 1 });
  if (values.length !== labels.length * d) throw new DataError('internal: row width mismatch', { file });
  return { x: Float32Array.from(values), labels: Int32Array.from(labels), n: labels.length };
}

/**
 * Load the junction window: features `[3186, 60]` float32 (0/1), labels
 * 0 = ei, 1 = ie, 2 = n; one split `all`.
 *
 * @param {{ path?: string, dataDir?: string }} [options]
 * @returns {Promise<import('@chainz/data').LoadedDataset>}
 */
export async function loadDnaJunction(options = {}) {
  const loc = await resolveDataPath(options, RELATIVE_PATH, { adapter: NAME, hint: HINT });
  const f = await readDataFile(loc.path, 'DNA CSV');
  const { x, labels, n } = parseDnaWindow(decodeUtf8(f.bytes), f.path);
  const d = WINDOW.last - WINDOW.first + 1;
  const warnings = [];
  if (f.sha256 !== REFERENCE_SHA256) warnings.push(`this file differs from the reference copy of ${RELATIVE_PATH} (sha256 ${REFERENCE_SHA256.slice(0, 12)}…)`);
  return createTabularDataset({
    name: NAME,
    features: x,
    n,
    d,
    labels,
    classNames: CLASS_NAMES,
    featureNames: Array.from({ length: d }, (_, j) => `V${WINDOW.first + j}`),
    provenance: {
      files: [f.path],
      sha256: [f.sha256],
      source: "UCI primate splice-junction gene sequences, Statlog version (R. King), via Debian's r-cran-mlbench 2.1-3-1 (data set DNA), exported to CSV",
      licence: 'GPL-2 (mlbench); the data are the public UCI set',
      citation:
        'Noordewier, M. O., Towell, G. G. & Shavlik, J. W. (1991). Training knowledge-based neural networks to recognize genes in DNA sequences. Advances in Neural Information Processing Systems 3.',
      notes: [
        `attributes V${WINDOW.first}-V${WINDOW.last} only: nucleotides 21-40 of 60 (10 either side of the junction), 3 binary indicators each`,
        'the window follows the hint in the mlbench help page for DNA ("attributes A61 to A120 only")',
      ],
    },
    warnings,
  });
}

/** The adapter. */
export const dnaJunctionAdapter = defineAdapter({
  name: NAME,
  describe: () => ({
    name: NAME,
    title: 'DNA splice junctions, window V61-V120 (3186 × 60 binary, 3 classes)',
    task: 'classification',
    modality: 'tabular',
    source: `<path | dataDir | CHAINZ_DATA_DIR>/${RELATIVE_PATH} (Statlog DNA from mlbench), attributes V61-V120 (plugin chainz-plugin-dna-junction)`,
    builtIn: false,
  }),
  load: (options) => loadDnaJunction(options),
});

/** The plugin: what `chainz --plugin` and `chainz.config.*` read. */
export default { name: 'chainz-plugin-dna-junction', adapters: [dnaJunctionAdapter] };
