export * from './errors';
export * from './rng';
export * from './backend';
export * from './tfjs-check';
export * from './ops/dense';
export * from './on-demand';
export * from './watchdog';
