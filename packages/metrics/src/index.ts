export * from './tail-ratio';
export * from './gradient-norms';
export * from './comparison';
export * from './corruption';
export * from './multiple-comparisons';
export * from './label-free';
export * from './tau-monitor';
export * from './spearman';
