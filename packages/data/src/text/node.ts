/** The Node built-in modules used by the text and dataset code. @internal */
export interface NodeApi {
  fs: typeof import('node:fs');
  fsp: typeof import('node:fs/promises');
  path: typeof import('node:path');
  os: typeof import('node:os');
  crypto: typeof import('node:crypto');
}

/**
 * Node built-ins loaded on demand, so the modules of `@chainz/data` that use
 * them stay importable (and tree-shakeable) in a browser bundle.
 * @internal
 */
export async function nodeApi(): Promise<NodeApi> {
  const [fs, fsp, path, os, crypto] = await Promise.all([
    import('node:fs'),
    import('node:fs/promises'),
    import('node:path'),
    import('node:os'),
    import('node:crypto'),
  ]);
  return { fs, fsp, path, os, crypto };
}
