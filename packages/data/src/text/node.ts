import { importNodeBuiltin } from '@chainz/core';

/** The Node built-in modules used by the text and dataset code. @internal */
export interface NodeApi {
  fs: typeof import('node:fs');
  fsp: typeof import('node:fs/promises');
  path: typeof import('node:path');
  os: typeof import('node:os');
  crypto: typeof import('node:crypto');
}

/**
 * Node built-ins loaded on demand (out of bundlers' sight), so the modules of
 * `@chainz/data` that use them stay importable (and tree-shakeable) in a
 * browser bundle.
 * @param feature what needs them, for the error outside Node.
 * @throws ChainzError `E_IO` outside Node.
 * @internal
 */
export async function nodeApi(feature = 'reading dataset files'): Promise<NodeApi> {
  const load = <T>(id: `node:${string}`) => importNodeBuiltin<T>(id, feature);
  const [fs, fsp, path, os, crypto] = await Promise.all([
    load<NodeApi['fs']>('node:fs'),
    load<NodeApi['fsp']>('node:fs/promises'),
    load<NodeApi['path']>('node:path'),
    load<NodeApi['os']>('node:os'),
    load<NodeApi['crypto']>('node:crypto'),
  ]);
  return { fs, fsp, path, os, crypto };
}
