// Test-only helpers (not exported from the package): agreement statistics
// between a ported corruption and the original generator's output.

/** Per-pixel agreement of two uint8 arrays of equal length. */
export function pixelAgreement(a: Uint8Array, b: Uint8Array): { mad: number; max: number; exact: number } {
  let sum = 0;
  let max = 0;
  let exact = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    if (d > max) max = d;
    if (d === 0) exact++;
  }
  return { mad: sum / a.length, max, exact: exact / a.length };
}

/** Mean and (population) standard deviation of `corrupted − clean`, in grey levels. */
export function diffStats(corrupted: Uint8Array, clean: Uint8Array): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < clean.length; i++) {
    const d = corrupted[i] - clean[i];
    s += d;
    s2 += d * d;
  }
  const mean = s / clean.length;
  return { mean, std: Math.sqrt(Math.max(0, s2 / clean.length - mean * mean)) };
}

/**
 * Standard error of `mean(a − clean) − mean(b − clean)` for two corrupted
 * versions of the same images, estimated from the per-image differences of the
 * two (paired by image; the images are the independent units, since a random
 * corruption draws its parameters per image).
 */
export function pairedMeanStandardError(a: Uint8Array, b: Uint8Array, imageSize: number): number {
  const n = a.length / imageSize;
  const d: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = i * imageSize; k < (i + 1) * imageSize; k++) s += a[k] - b[k];
    d.push(s / imageSize);
  }
  const m = d.reduce((x, y) => x + y, 0) / n;
  const v = d.reduce((x, y) => x + (y - m) ** 2, 0) / (n - 1);
  return Math.sqrt(v / n);
}
