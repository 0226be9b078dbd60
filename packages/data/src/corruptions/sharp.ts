/**
 * Lazy loader for `sharp` (libvips), so importing @chainz/data does not load the
 * native library, and browser bundles leave it out: the specifier is a
 * parameter, not a literal, and the call carries webpack's and Vite's ignore
 * comments, so bundlers keep the call as written. (It stays in this package so
 * that Node resolves `sharp` from here, where it is a dependency.)
 */
import { ChainzError, isNodeRuntime } from '@chainz/core';

function importHidden<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

type SharpFn = typeof import('sharp').default;

let sharpModule: Promise<SharpFn> | undefined;

/**
 * The `sharp` function, imported on first use.
 * @param feature what needs it, for the error outside Node (e.g. `'jpeg_compression'`).
 * @throws ChainzError `E_IO` outside Node (sharp is a native library).
 */
export function loadSharp(feature = 'image decoding'): Promise<SharpFn> {
  if (!isNodeRuntime()) {
    return Promise.reject(
      new ChainzError('E_IO', `${feature} needs sharp (libvips, Node.js only), not available in this runtime`, {}, 'every other corruption runs in a browser'),
    );
  }
  sharpModule ??= importHidden<typeof import('sharp')>('sharp').then((m) => m.default);
  return sharpModule;
}
