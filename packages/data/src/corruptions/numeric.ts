/**
 * Small numeric helpers that reproduce numpy's float semantics where the
 * CIFAR-10-C generator depends on them (float32 arithmetic, banker's rounding,
 * `np.arange` fill rule, pairwise summation, `np.uint8` truncation).
 */

/** Round to float32 (numpy float32 arithmetic = double op then round, exact for + − × ÷). */
export const f32 = Math.fround;

/** Python's `round()`: half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/**
 * `np.arange(start, stop, step)` for floats: length `ceil((stop − start)/step)`,
 * element i = `start + i·delta` with `delta = (start + step) − start` (numpy's
 * fill rule, which is why `np.arange(1, 1.06, 0.01)` has 7 elements).
 */
export function arange(start: number, stop: number, step: number): number[] {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(i === 0 ? start : i === 1 ? start + step : start + i * delta);
  return out;
}

/**
 * numpy's pairwise summation of `a[start … start+n)` (`np.sum` on a
 * contiguous float64 array): plain loop below 8 elements, eight interleaved
 * accumulators up to 128, recursive halving above.
 */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** `np.clip(v, 0, 1) * 255` then `np.uint8(...)`: clip, scale and truncate (not round). */
export function unitToU8(v: number): number {
  const c = v < 0 ? 0 : v > 1 ? 1 : v;
  return Math.trunc(c * 255);
}

/** `np.uint8(np.clip(v, 0, 255))`: clip and truncate. */
export function clipTruncU8(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
}
