import { loadQuietly, requireCjs } from './quiet';
import { toRows, type ModelRunner } from './types';

/** Hyper-parameters of the gradient-boosted trees baseline. */
export interface XgboostConfig {
  /** Boosting rounds. Default 100. */
  iterations: number;
  /** Maximum tree depth. Default 3. */
  maxDepth: number;
  /** Learning rate η. Default 0.1. */
  eta: number;
  /** Row subsample per tree. Default 0.8. */
  subsample: number;
  /** Column subsample per tree. Default 0.8. */
  colsampleBytree: number;
}

export const DEFAULT_XGBOOST_CONFIG: XgboostConfig = { iterations: 100, maxDepth: 3, eta: 0.1, subsample: 0.8, colsampleBytree: 0.8 };

interface XgbModule {
  new (opts: Record<string, unknown>): { train(x: number[][], y: number[]): void; predict(x: number[][]): (number | number[])[]; free(): void };
}

let xgbModule: Promise<XgbModule> | undefined;

/**
 * XGBoost (ml-xgboost, XGBoost compiled to WebAssembly), `gbtree` booster,
 * logistic objective for two classes and softprob otherwise, with the fold's
 * seed passed to XGBoost's own RNG (row/column subsampling).
 */
export function xgboostModel(config: Partial<XgboostConfig> = {}): ModelRunner {
  const cfg = { ...DEFAULT_XGBOOST_CONFIG, ...config };
  return {
    name: 'xgboost',
    description: `XGBoost gbtree, ${cfg.iterations} rounds, depth ${cfg.maxDepth}, eta ${cfg.eta}, subsample ${cfg.subsample}/${cfg.colsampleBytree}`,
    config: { ...cfg },
    async run(fold, seed) {
      xgbModule ??= loadQuietly(() => requireCjs('ml-xgboost') as Promise<XgbModule>);
      const XGB = await xgbModule;
      const binary = fold.nClasses === 2;
      const t0 = performance.now();
      const model = new XGB({
        booster: 'gbtree',
        objective: binary ? 'binary:logistic' : 'multi:softprob',
        ...(binary ? {} : { num_class: fold.nClasses }),
        max_depth: cfg.maxDepth,
        eta: cfg.eta,
        subsample: cfg.subsample,
        colsample_bytree: cfg.colsampleBytree,
        min_child_weight: 1,
        silent: 1,
        seed: seed % 2147483647,
        iterations: cfg.iterations,
      });
      try {
        model.train(toRows(fold.xTrain, fold.nFeatures), Array.from(fold.yTrain));
        const trainSeconds = (performance.now() - t0) / 1000;
        const out = model.predict(toRows(fold.xTest, fold.nFeatures));
        const pred = new Int32Array(out.length);
        out.forEach((p, i) => {
          if (typeof p === 'number') pred[i] = p >= 0.5 ? 1 : 0;
          else pred[i] = p.indexOf(Math.max(...p));
        });
        return { predictions: pred, tau: null, trainSeconds };
      } finally {
        model.free();
      }
    },
  };
}
