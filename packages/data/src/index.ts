export * from './adapter';
export * from './sst5/ptb';
export * from './sst5/adapter';
export * from './yelp/adapter';
