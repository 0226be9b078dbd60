import { createRequire } from 'node:module';

/** CommonJS `require` (libsvm-js and ml-xgboost export a Promise as module.exports). */
export const requireCjs = createRequire(import.meta.url);

/**
 * Run `load` while dropping the harmless "wasm streaming compile failed …
 * falling back to ArrayBuffer instantiation" lines that the emscripten builds
 * of libsvm-js and ml-xgboost print in Node.
 */
export async function loadQuietly<T>(load: () => Promise<T>): Promise<T> {
  const orig = { warn: console.warn, error: console.error, log: console.log };
  const filter = (f: (...a: unknown[]) => void) => (...args: unknown[]) => {
    const s = String(args[0] ?? '');
    if (s.startsWith('wasm streaming compile failed') || s.startsWith('falling back to ArrayBuffer')) return;
    f(...args);
  };
  console.warn = filter(orig.warn);
  console.error = filter(orig.error);
  console.log = filter(orig.log);
  try {
    return await load();
  } finally {
    Object.assign(console, orig);
  }
}
