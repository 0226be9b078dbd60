/**
 * The protocols of `chainz bench suite`. The models and their
 * hyper-parameters are the tabular ones (tabular/config.ts), unchanged.
 *
 * `default` is sized to finish in about a quarter of an hour on a 2-core
 * machine: 5-fold cross-validation on at most 2000 rows per data set (a
 * stratified sample, seeded; satellite, letter, dna and shuttle are sampled).
 * `full` runs 10-fold cross-validation on every row of every data set.
 */
export const SUITE_PROTOCOLS = {
  default: { folds: 5, repeats: 1, maxRows: 2000 },
  full: { folds: 10, repeats: 1, maxRows: null },
} as const satisfies Record<string, { folds: number; repeats: number; maxRows: number | null }>;
