import type { ModelRunner } from './types';

/** Predicts the most frequent training class (ties: lowest index). The floor every model must beat. */
export function majorityModel(): ModelRunner {
  return {
    name: 'majority',
    description: 'most frequent training class',
    config: {},
    async run(fold) {
      const t0 = performance.now();
      const counts = new Array<number>(fold.nClasses).fill(0);
      for (const y of fold.yTrain) counts[y]++;
      const best = counts.indexOf(Math.max(...counts));
      return { predictions: new Int32Array(fold.yTest.length).fill(best), tau: null, trainSeconds: (performance.now() - t0) / 1000 };
    },
  };
}
