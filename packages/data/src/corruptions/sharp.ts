/** Lazy loader for `sharp` (libvips), so importing @chainz/data does not load the native library. */
type SharpFn = typeof import('sharp').default;

let sharpModule: Promise<SharpFn> | undefined;

/** The `sharp` function, imported on first use. */
export function loadSharp(): Promise<SharpFn> {
  sharpModule ??= import('sharp').then((m) => m.default);
  return sharpModule;
}
