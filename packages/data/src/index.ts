export * from './adapter';
export * from './csv/io';
export * from './csv/parse';
export * from './csv/adapter';
export * from './pima/adapter';
export { PIMA_CSV, PIMA_CSV_SHA256 } from './pima/pima-csv.generated';
export * from './splits';
export * from './preprocess';
export * from './builtins';
