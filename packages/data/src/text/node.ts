/**
 * Node built-ins loaded on demand, so the modules of `@chainz/data` that use
 * them stay importable (and tree-shakeable) in a browser bundle.
 * @internal
 */
export async function nodeApi() {
  const [fs, fsp, path, os, crypto] = await Promise.all([
    import('node:fs'),
    import('node:fs/promises'),
    import('node:path'),
    import('node:os'),
    import('node:crypto'),
  ]);
  return { fs, fsp, path, os, crypto };
}
