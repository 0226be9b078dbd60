/**
 * `@chainz/data` for browsers: what a bundler targeting the browser gets for
 * `import … from '@chainz/data'` (the `browser` export condition; also the
 * explicit subpath `@chainz/data/browser`). Node resolves `@chainz/data` to the
 * full entry (`index.ts`), so Node code is unaffected.
 *
 * In here: the adapter registry, CSV from text, the embedded Pima data, folds
 * and subsamples, tabular preprocessing and the CIFAR-10-C corruptions
 * (`jpeg_compression` and `frost` need sharp and texture files: Node only; they
 * throw ChainzError `E_IO` here). Left out: everything that reads files by path
 * (CIFAR-10, CIFAR-10-C, SST-5, Yelp, `.npy`), text encoders and the embedding
 * cache. Nothing here imports a Node built-in or a native package; Node-only
 * helpers reached from here (`readDataFile`) load Node on demand and throw
 * `E_IO` in a browser.
 */
import { hasAdapter, registerAdapter, type DatasetAdapter } from './adapter';
import { csvAdapter } from './csv/adapter';
import { pimaAdapter } from './pima/adapter';

export * from './adapter';
export { decodeUtf8, sha256Hex } from './csv/io';
export * from './csv/parse';
export * from './csv/adapter';
export * from './pima/adapter';
export { PIMA_CSV, PIMA_CSV_SHA256 } from './pima/pima-csv.generated';
export * from './splits';
export * from './preprocess';
export { corrupt, type CorruptOptions } from './corruptions/corrupt';
export { CORRUPTIONS, type CorruptionName, type Severity } from './corruptions/params';

/**
 * The built-in adapters that work in a browser: `csv` (with its `text` option)
 * and `pima` (the embedded copy). The Node entry's list adds the file-based ones.
 */
export const BUILTIN_ADAPTERS: readonly DatasetAdapter<any>[] = [csvAdapter, pimaAdapter];

/**
 * Register every browser built-in adapter ({@link BUILTIN_ADAPTERS}) whose name
 * is still free. Idempotent; an adapter registered earlier under a built-in name
 * is kept. Same name and contract as the Node entry's function.
 */
export function registerBuiltinAdapters(): void {
  for (const a of BUILTIN_ADAPTERS) if (!hasAdapter(a.name)) registerAdapter(a);
}
