/** Moved to `@chainz/metrics`; kept as a re-export for existing imports. */
export { meanAbsoluteError, quadraticWeightedKappa, confusionMatrix } from '@chainz/metrics';
