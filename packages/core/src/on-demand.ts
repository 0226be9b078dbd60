/**
 * Imports that bundlers leave alone, for the Node-only corners of packages that
 * otherwise run in browsers (saving files, reading datasets, native codecs).
 *
 * A bundler follows every `import('literal')` it sees: for a browser target a
 * Node built-in such as `node:fs/promises` then fails the build ("Could not
 * resolve"), and a native package such as `sharp` drags its Node-only code
 * along. Here the specifier is a function parameter, never a literal, and the
 * call carries webpack's and Vite's ignore comments, so esbuild, Rollup/Vite
 * and webpack keep the call as written and the module is loaded only when the
 * Node-only feature is used.
 */
import { ChainzError } from './errors';

/** A Node built-in module, spelled with its `node:` prefix (e.g. `node:fs/promises`). */
export type NodeBuiltinId = `node:${string}`;

/**
 * `import(specifier)` at run time, invisible to bundlers (see the module
 * comment). Only for Node built-ins: a package name would resolve from
 * `@chainz/core`'s own folder, where (with pnpm's strict layout) the caller's
 * dependencies are not visible — a package that loads an npm module this way
 * keeps such a call in its own code.
 */
function importOnDemand<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

/** True in Node.js (and runtimes that pose as it: `process.versions.node` is set). */
export function isNodeRuntime(): boolean {
  const g = globalThis as { process?: { versions?: { node?: unknown } } };
  return typeof g.process?.versions?.node === 'string';
}

/**
 * A Node built-in module, loaded on first use without a static import, so the
 * module that calls this stays bundleable for browsers.
 *
 * @param id the built-in, with its `node:` prefix, e.g. `'node:fs/promises'`.
 * @param feature what needs it, for the error message, e.g. `'saveModel'`.
 * @param hint what to do instead outside Node (printed after the message).
 * @returns the module namespace (`typeof import('node:fs/promises')` etc.; pass it as `T`).
 * @throws ChainzError `E_IO` outside Node: "`feature` needs Node.js (`id`), not available in this runtime".
 */
export async function importNodeBuiltin<T>(id: NodeBuiltinId, feature: string, hint?: string): Promise<T> {
  if (!isNodeRuntime()) {
    throw new ChainzError('E_IO', `${feature} needs Node.js (${id}), not available in this runtime`, {}, hint);
  }
  return importOnDemand<T>(id);
}
