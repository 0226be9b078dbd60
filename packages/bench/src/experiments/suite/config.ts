/**
 * The protocols of `chainz bench suite`. The models and their
 * hyper-parameters are the tabular ones (tabular/config.ts), unchanged.
 *
 * `default`: the Pima protocol (stratified 10-fold × 1, seed 0) on at most
 * 5000 rows per data set (a stratified sample, seeded, every class keeping
 * min(its rows, 10); letter, satellite and shuttle are sampled) — about 6
 * minutes on a 2-core machine. `full`: 10-fold on every row of every data set.
 */
export const SUITE_PROTOCOLS = {
  default: { folds: 10, repeats: 1, maxRows: 5000 },
  full: { folds: 10, repeats: 1, maxRows: null },
} as const satisfies Record<string, { folds: number; repeats: number; maxRows: number | null }>;
