import { renameOptions, type OptionNames } from '@chainz/core';

/**
 * Call a library function (an adapter's `load`, a fold splitter) for a
 * `chainz bench` command and re-throw its ChainzError with the library's
 * option names spelled as the command's flags, e.g.
 * `withCliFlags({ path: '--data', dataDir: null }, () => loadSst5({ path }))`:
 * the user reads "pass --data", a library caller of `loadSst5` still reads
 * "pass `path`". `null` drops an alternative the command does not offer.
 * Works for synchronous functions and for promises.
 *
 * @param flags library option name → CLI flag (or `null`); see {@link OptionNames}.
 * @param fn the call; its value (or promise) is returned unchanged.
 */
export function withCliFlags<T>(flags: OptionNames, fn: () => T): T {
  let out: T;
  try {
    out = fn();
  } catch (e) {
    throw renameOptions(e, flags);
  }
  if (out instanceof Promise) {
    return out.catch((e: unknown) => {
      throw renameOptions(e, flags);
    }) as T;
  }
  return out;
}

/**
 * Flags of the data-location options every adapter takes (`dataDir` has no
 * flag: CHAINZ_DATA_DIR is named instead). `pathFlag` null: the command takes
 * no file for this data (e.g. `--dataset NAME`), so only CHAINZ_DATA_DIR is named.
 */
export function dataFlags(pathFlag: string | null): OptionNames {
  return { path: pathFlag, dataDir: null };
}

/**
 * Options of the CSV readers (`loadTabularCsv`, the UCI adapters) that no
 * `chainz bench` command offers: their hints then say what to change in the
 * file instead.
 */
export const CSV_LIBRARY_ONLY: OptionNames = { missing: null, maxClasses: null, maxCategories: null, ignoreColumns: null, delimiter: null, classNames: null, labelOrder: null };

/**
 * Flags of the k-fold options (`repeatedStratifiedKFold`): `k` → `--folds`,
 * `repeats` → `--repeats`, and `labels` (too few examples per class) → the
 * flag that gave the data file; `singletonClasses` has no flag.
 */
export function foldFlags(dataFlag: string): OptionNames {
  return { k: '--folds', repeats: '--repeats', labels: dataFlag, singletonClasses: null };
}
