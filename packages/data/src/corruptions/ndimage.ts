/**
 * The parts of `scipy.ndimage` (1.10) that the CIFAR-10-C generator uses,
 * re-implemented from their documented behaviour and C sources' arithmetic
 * order: `gaussian_filter` (separable correlation, modes `nearest` and
 * `reflect`), `zoom` with `order=1` (corner-aligned: input coordinate =
 * output index × (in − 1)/(out − 1), mode `constant`), and
 * `map_coordinates` with `order=1`, mode `reflect`.
 *
 * Images are HWC (`[h, w, c]`, row-major, channel fastest).
 */

import { pairwiseSum } from './numeric';

/** Boundary modes of scipy.ndimage used here. */
export type NdMode = 'nearest' | 'reflect';

/**
 * Normalised 1-D Gaussian weights as `gaussian_filter1d` builds them:
 * radius `int(truncate·σ + 0.5)`, `w[x] = exp(−0.5/σ² · x²)`, divided by their
 * (pairwise) sum.
 *
 * @returns weights, length 2·radius + 1.
 */
export function gaussianWeights(sigma: number, truncate = 4): Float64Array {
  const radius = Math.trunc(truncate * sigma + 0.5);
  const w = new Float64Array(2 * radius + 1);
  const c = -0.5 / (sigma * sigma);
  for (let i = -radius; i <= radius; i++) w[i + radius] = Math.exp(c * (i * i));
  const s = pairwiseSum(w);
  for (let i = 0; i < w.length; i++) w[i] /= s;
  return w;
}

/** Index of sample `i` of a line of length n, extended by `mode`. */
export function extendIndex(i: number, n: number, mode: NdMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'nearest') return i < 0 ? 0 : n - 1;
  // reflect: half-sample symmetric, period 2n (d c b a | a b c d | d c b a)
  const p = 2 * n;
  let m = i % p;
  if (m < 0) m += p;
  return m >= n ? p - 1 - m : m;
}

/**
 * Correlate along one axis with a symmetric kernel, in scipy's order:
 * `out = x[0]·w[0] + Σ_{j=r…1} (x[−j] + x[+j])·w[j]`.
 *
 * @param data `[h, w, c]` float64 (read only).
 * @param axis 0 (along rows, i.e. vertical) or 1 (horizontal).
 * @returns the filtered `[h, w, c]` array.
 */
export function correlateSymmetric1d(
  data: Float64Array,
  h: number,
  w: number,
  c: number,
  weights: Float64Array,
  axis: 0 | 1,
  mode: NdMode,
): Float64Array {
  const out = new Float64Array(data.length);
  const r = (weights.length - 1) / 2;
  const len = axis === 0 ? h : w;
  const lines = axis === 0 ? w * c : h * c;
  const line = new Float64Array(len + 2 * r);
  for (let l = 0; l < lines; l++) {
    // Position of element k of this line in the HWC buffer.
    let base: number;
    let stride: number;
    if (axis === 0) {
      base = l; // column*c + channel
      stride = w * c;
    } else {
      const row = Math.floor(l / c);
      base = row * w * c + (l % c);
      stride = c;
    }
    for (let k = -r; k < len + r; k++) line[k + r] = data[base + extendIndex(k, len, mode) * stride];
    for (let k = 0; k < len; k++) {
      const ctr = k + r;
      let s = line[ctr] * weights[r];
      for (let j = r; j >= 1; j--) s += (line[ctr - j] + line[ctr + j]) * weights[r - j];
      out[base + k * stride] = s;
    }
  }
  return out;
}

/**
 * `scipy.ndimage.gaussian_filter` over the two spatial axes of an HWC image
 * (axis 0 first, then axis 1; the channel axis is not filtered, as with
 * `skimage.filters.gaussian(..., multichannel=True)`). σ ≤ 1e-15 leaves the
 * image unchanged.
 *
 * @param img `[h, w, c]` float64.
 * @returns `[h, w, c]` float64.
 */
export function gaussianFilter(img: Float64Array, h: number, w: number, c: number, sigma: number, mode: NdMode, truncate = 4): Float64Array {
  if (!(sigma > 1e-15)) return Float64Array.from(img);
  const wts = gaussianWeights(sigma, truncate);
  return correlateSymmetric1d(correlateSymmetric1d(img, h, w, c, wts, 0, mode), h, w, c, wts, 1, mode);
}

interface AxisTaps {
  /** First input index, or −1 where scipy's constant mode yields cval. */
  i0: Int32Array;
  i1: Int32Array;
  w0: Float64Array;
  w1: Float64Array;
  valid: Uint8Array;
}

/** Mirror mapping of an integer index (scipy's spline boundary for constant mode). */
function mirrorIndex(i: number, n: number): number {
  if (n <= 1) return 0;
  const p = 2 * n - 2;
  if (i < 0) {
    let m = p * Math.trunc(-i / p) + i;
    m = m <= 1 - n ? m + p : -m;
    return m;
  }
  if (i > n - 1) {
    let m = i - p * Math.trunc(i / p);
    if (m >= n) m = p - m;
    return m;
  }
  return i;
}

function zoomTaps(inLen: number, outLen: number): AxisTaps {
  const zoom = outLen > 1 ? (inLen - 1) / (outLen - 1) : 1;
  const t: AxisTaps = {
    i0: new Int32Array(outLen),
    i1: new Int32Array(outLen),
    w0: new Float64Array(outLen),
    w1: new Float64Array(outLen),
    valid: new Uint8Array(outLen),
  };
  for (let k = 0; k < outLen; k++) {
    const cc = k * zoom;
    if (cc < 0 || cc > inLen - 1) continue; // mode 'constant': mapped to −1 → cval (0)
    const start = Math.floor(cc);
    const x = cc - start;
    t.valid[k] = 1;
    t.i0[k] = start;
    t.i1[k] = start + 1 >= inLen ? mirrorIndex(start + 1, inLen) : start + 1;
    t.w0[k] = 1 - x;
    t.w1[k] = 1 - t.w0[k];
  }
  return t;
}

/**
 * `scipy.ndimage.zoom(img, (outH/h-ish, outW/w-ish, 1), order=1)` for an HWC
 * image with the output size given: corner-aligned linear interpolation
 * (coordinate = index × (in − 1)/(out − 1)), mode `constant` (cval 0).
 *
 * @param img `[h, w, c]` (float32 or float64 values).
 * @returns `[outH, outW, c]` float64 (round to float32 for a float32 input).
 */
export function zoomLinear(img: ArrayLike<number>, h: number, w: number, c: number, outH: number, outW: number): Float64Array {
  const ty = zoomTaps(h, outH);
  const tx = zoomTaps(w, outW);
  const out = new Float64Array(outH * outW * c);
  for (let y = 0; y < outH; y++) {
    if (!ty.valid[y]) continue;
    const r0 = ty.i0[y] * w * c;
    const r1 = ty.i1[y] * w * c;
    const wy0 = ty.w0[y];
    const wy1 = ty.w1[y];
    for (let x = 0; x < outW; x++) {
      if (!tx.valid[x]) continue;
      const c0 = tx.i0[x] * c;
      const c1 = tx.i1[x] * c;
      const wx0 = tx.w0[x];
      const wx1 = tx.w1[x];
      const o = (y * outW + x) * c;
      for (let ch = 0; ch < c; ch++) {
        // scipy's order: Σ over (row tap, column tap) of value·w_row·w_col.
        let t = 0;
        t += img[r0 + c0 + ch] * wy0 * wx0;
        t += img[r0 + c1 + ch] * wy0 * wx1;
        t += img[r1 + c0 + ch] * wy1 * wx0;
        t += img[r1 + c1 + ch] * wy1 * wx1;
        out[o + ch] = t;
      }
    }
  }
  return out;
}

/**
 * `map_coordinates(img, [rows, cols, channel], order=1, mode='reflect')` for
 * an HWC image, sampling every channel at the same (row, col) coordinate.
 *
 * @param img `[h, w, c]`.
 * @param rows row coordinate per output pixel, length h·w.
 * @param cols column coordinate per output pixel, length h·w.
 * @returns `[h, w, c]` float64.
 */
export function mapCoordinatesLinearReflect(
  img: ArrayLike<number>,
  h: number,
  w: number,
  c: number,
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(h * w * c);
  const tap = (coord: number, n: number): [number, number, number, number] => {
    const cc = reflectCoordinate(coord, n);
    const start = Math.floor(cc);
    const x = cc - start;
    const w0 = 1 - x;
    const w1 = 1 - w0;
    const i0 = start < 0 || start >= n ? extendIndex(start, n, 'reflect') : start;
    const i1 = start + 1 < 0 || start + 1 >= n ? extendIndex(start + 1, n, 'reflect') : start + 1;
    return [i0, i1, w0, w1];
  };
  for (let p = 0; p < h * w; p++) {
    const [y0, y1, wy0, wy1] = tap(rows[p], h);
    const [x0, x1, wx0, wx1] = tap(cols[p], w);
    for (let ch = 0; ch < c; ch++) {
      let t = 0;
      t += img[(y0 * w + x0) * c + ch] * wy0 * wx0;
      t += img[(y0 * w + x1) * c + ch] * wy0 * wx1;
      t += img[(y1 * w + x0) * c + ch] * wy1 * wx0;
      t += img[(y1 * w + x1) * c + ch] * wy1 * wx1;
      out[p * c + ch] = t;
    }
  }
  return out;
}

/** scipy's `map_coordinate` for mode 'reflect' (coordinates outside [0, n−1]). */
function reflectCoordinate(cc: number, n: number): number {
  if (n <= 1) return 0;
  const p = 2 * n;
  if (cc < 0) {
    if (cc < -p) cc = p * Math.trunc(-cc / p) + cc;
    return cc < -n ? cc + p : (cc > -1e-15 ? 1e-15 : -cc) - 1;
  }
  if (cc > n - 1) {
    cc -= p * Math.trunc(cc / p);
    if (cc >= n) cc = p - cc - 1;
  }
  return cc;
}
