export * from './errors';
export * from './rng';
