import { loadQuietly, requireCjs } from './quiet';
import { toRows, type ModelRunner } from './types';

/** Hyper-parameters of the RBF SVM baseline (libsvm defaults). */
export interface SvmConfig {
  /** Soft-margin cost C. Default 1. */
  cost: number;
  /** RBF γ; `null` = 1 / nFeatures (libsvm default). */
  gamma: number | null;
}

export const DEFAULT_SVM_CONFIG: SvmConfig = { cost: 1, gamma: null };

interface LibSvm {
  new (opts: Record<string, unknown>): { train(x: number[][], y: number[]): void; predict(x: number[][]): number[]; free(): void };
  KERNEL_TYPES: Record<string, string>;
  SVM_TYPES: Record<string, string>;
}

let svmModule: Promise<LibSvm> | undefined;

/**
 * C-SVC with an RBF kernel from libsvm-js (libsvm compiled to WebAssembly),
 * label mode (no probability estimates: those are not reproducible within one
 * process). Deterministic: libsvm's solver uses no randomness without `-b 1`.
 */
export function svmRbfModel(config: Partial<SvmConfig> = {}): ModelRunner {
  const cfg = { ...DEFAULT_SVM_CONFIG, ...config };
  return {
    name: 'svm-rbf',
    description: `libsvm C-SVC, RBF kernel, C=${cfg.cost}, gamma=${cfg.gamma ?? '1/d'}`,
    config: { ...cfg },
    async run(fold) {
      svmModule ??= loadQuietly(() => requireCjs('libsvm-js') as Promise<LibSvm>);
      const SVM = await svmModule;
      const t0 = performance.now();
      const svm = new SVM({
        type: SVM.SVM_TYPES.C_SVC,
        kernel: SVM.KERNEL_TYPES.RBF,
        cost: cfg.cost,
        gamma: cfg.gamma ?? 1 / fold.nFeatures,
        quiet: true,
      });
      try {
        svm.train(toRows(fold.xTrain, fold.nFeatures), Array.from(fold.yTrain));
        const trainSeconds = (performance.now() - t0) / 1000;
        const pred = svm.predict(toRows(fold.xTest, fold.nFeatures));
        return { predictions: Int32Array.from(pred), tau: null, trainSeconds };
      } finally {
        svm.free();
      }
    },
  };
}
