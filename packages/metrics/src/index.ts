export * from './tail-ratio';
export * from './gradient-norms';
export * from './comparison';
export * from './corruption';
export * from './tau-model';
