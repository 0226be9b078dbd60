/**
 * The OpenCV (4.6) operations the CIFAR-10-C generator calls, re-implemented
 * from their documented definitions and arithmetic: Gaussian kernels and a
 * 3×3 separable float32 blur, `filter2D` (correlation, float64), bilinear
 * `resize` of uint8 images (fixed-point), `getAffineTransform`, `warpAffine`
 * (bilinear, 1/32-pixel interpolation table) and RGB→grey. Border handling
 * `BORDER_REFLECT_101` (`gfedcb|abcdefgh|gfedcba`), OpenCV's default.
 *
 * Images are HWC (`[h, w, c]`, row-major, channel fastest).
 */

import { f32 } from './numeric';

/** `BORDER_REFLECT_101` index mapping for a line of length n (n ≥ 2). */
export function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const p = 2 * n - 2;
  let m = i % p;
  if (m < 0) m += p;
  return m >= n ? p - m : m;
}

/**
 * `cv::getGaussianKernel(n, sigma)` in float64 (odd n, σ > 0):
 * `k[i] ∝ exp(−(i − (n−1)/2)² / (2σ²))`, normalised to sum 1.
 */
export function gaussianKernel(n: number, sigma: number): Float64Array {
  const half = (n - 1) / 2;
  const scale = -0.125 / (sigma * sigma);
  const vals = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < half; i++) {
    const x = 2 * i + 1 - n; // 2·(i − half)
    const t = Math.exp(x * x * scale);
    vals[i] = t;
    sum += t;
  }
  sum = sum * 2 + 1;
  vals[half] = 1;
  for (let i = 0; i <= half; i++) {
    vals[i] /= sum;
    vals[n - 1 - i] = vals[i];
  }
  return vals;
}

/**
 * `cv::GaussianBlur(src, (3, 3), sigma)` on a single-channel float32 image,
 * BORDER_REFLECT_101: row pass then column pass, each
 * `k0·x[0] + k1·(x[−1] + x[+1])` in float32 with a float32 kernel.
 *
 * @param src `[h, w]` float32.
 * @returns `[h, w]` float32.
 */
export function gaussianBlur3x3F32(src: Float32Array, h: number, w: number, sigma: number): Float32Array {
  const k = gaussianKernel(3, sigma);
  const k0 = f32(k[1]);
  const k1 = f32(k[0]);
  const tmp = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = src[y * w + reflect101(x - 1, w)];
      const b = src[y * w + reflect101(x + 1, w)];
      tmp[y * w + x] = f32(f32(src[y * w + x] * k0) + f32(f32(a + b) * k1));
    }
  }
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    const ym = reflect101(y - 1, h);
    const yp = reflect101(y + 1, h);
    for (let x = 0; x < w; x++) {
      out[y * w + x] = f32(f32(tmp[y * w + x] * k0) + f32(f32(tmp[ym * w + x] + tmp[yp * w + x]) * k1));
    }
  }
  return out;
}

/**
 * `cv::filter2D(src, -1, kernel)` on one float64 channel: correlation with the
 * anchor at the kernel centre, BORDER_REFLECT_101, terms summed in kernel
 * row-major order (zero taps skipped).
 *
 * @param src `[h, w]` float64.
 * @param kernel `[kh, kw]` (odd sizes).
 * @returns `[h, w]` float64.
 */
export function filter2D(src: Float64Array, h: number, w: number, kernel: ArrayLike<number>, kh: number, kw: number): Float64Array {
  const ay = (kh - 1) / 2;
  const ax = (kw - 1) / 2;
  const taps: [number, number, number][] = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) if (kernel[i * kw + j] !== 0) taps.push([i - ay, j - ax, kernel[i * kw + j]]);
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (const [dy, dx, k] of taps) s += k * src[reflect101(y + dy, h) * w + reflect101(x + dx, w)];
      out[y * w + x] = s;
    }
  }
  return out;
}

/**
 * `cv::resize(src, (0, 0), fx, fy, INTER_LINEAR)` for uint8 images: output
 * size `round(w·fx) × round(h·fy)`, source coordinate `(d + 0.5)/f − 0.5`
 * (float32), clamped at the borders, 11-bit fixed-point weights and OpenCV's
 * vectorised vertical rounding.
 *
 * @param src `[h, w, c]` uint8.
 * @returns `{ data: [oh, ow, c] uint8, h: oh, w: ow }`.
 */
export function resizeLinearU8(src: Uint8Array, h: number, w: number, c: number, fx: number, fy: number): { data: Uint8Array; h: number; w: number } {
  const ow = rint(w * fx);
  const oh = rint(h * fy);
  const SCALE = 2048;
  const taps = (inLen: number, outLen: number, inv: number) => {
    const scale = 1 / inv;
    const s0 = new Int32Array(outLen);
    const a0 = new Int32Array(outLen);
    const a1 = new Int32Array(outLen);
    for (let d = 0; d < outLen; d++) {
      let f = f32((d + 0.5) * scale - 0.5);
      let s = Math.floor(f);
      f = f32(f - s);
      if (s < 0) (f = 0), (s = 0);
      if (s >= inLen - 1) (f = 0), (s = inLen - 1);
      s0[d] = s;
      a0[d] = rint(f32(1 - f) * SCALE);
      a1[d] = rint(f * SCALE);
    }
    return { s0, a0, a1 };
  };
  const tx = taps(w, ow, fx);
  const ty = taps(h, oh, fy);
  // Horizontal pass for every source row (int, scaled by 2048).
  const rows = new Int32Array(h * ow * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      const s = tx.s0[x];
      const s1 = Math.min(s + 1, w - 1);
      for (let ch = 0; ch < c; ch++) {
        rows[(y * ow + x) * c + ch] = src[(y * w + s) * c + ch] * tx.a0[x] + src[(y * w + s1) * c + ch] * tx.a1[x];
      }
    }
  }
  const out = new Uint8Array(oh * ow * c);
  for (let y = 0; y < oh; y++) {
    const r0 = ty.s0[y];
    const r1 = Math.min(r0 + 1, h - 1);
    const b0 = ty.a0[y];
    const b1 = ty.a1[y];
    for (let i = 0; i < ow * c; i++) {
      const v = (((b0 * (rows[r0 * ow * c + i] >> 4)) >> 16) + ((b1 * (rows[r1 * ow * c + i] >> 4)) >> 16) + 2) >> 2;
      out[y * ow * c + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { data: out, h: oh, w: ow };
}

/** A 2×3 affine matrix `[m00, m01, m02, m10, m11, m12]` mapping (x, y) → (x', y'). */
export type Affine = [number, number, number, number, number, number];

/**
 * `cv::getAffineTransform(src, dst)`: the affine map taking three points
 * `src[i] = (x, y)` to `dst[i]` (6×6 linear system, Gaussian elimination with
 * partial pivoting in float64).
 */
export function getAffineTransform(src: [number, number][], dst: [number, number][]): Affine {
  const a: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < 3; i++) {
    a.push([src[i][0], src[i][1], 1, 0, 0, 0]);
    b.push(dst[i][0]);
    a.push([0, 0, 0, src[i][0], src[i][1], 1]);
    b.push(dst[i][1]);
  }
  const n = 6;
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) piv = r;
    if (a[piv][col] === 0) throw new RangeError('getAffineTransform: the source points are collinear');
    [a[col], a[piv]] = [a[piv], a[col]];
    [b[col], b[piv]] = [b[piv], b[col]];
    for (let r = col + 1; r < n; r++) {
      const f = a[r][col] / a[col][col];
      if (f === 0) continue;
      for (let k = col; k < n; k++) a[r][k] -= f * a[col][k];
      b[r] -= f * b[col];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r];
    for (let k = r + 1; k < n; k++) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return x as Affine;
}

/** C's `lrint` (round half to even), OpenCV's `saturate_cast<int>(double)`. */
function rint(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * `cv::warpAffine(src, M, (w, h), INTER_LINEAR, BORDER_REFLECT_101)` for a
 * float32 HWC image. As OpenCV does, M is inverted to map destination to
 * source pixels, source coordinates are quantised to 1/32 pixel (10-bit
 * fixed-point accumulation) and the bilinear weights come from a float32 table.
 *
 * @param src `[h, w, c]` float32.
 * @returns `[h, w, c]` float32.
 */
export function warpAffineLinearReflect101(src: Float32Array, h: number, w: number, c: number, M: Affine): Float32Array {
  // Invert M (OpenCV's arithmetic).
  let [m0, m1, m2, m3, m4, m5] = M;
  let D = m0 * m4 - m1 * m3;
  D = D !== 0 ? 1 / D : 0;
  const a11 = m4 * D;
  const a22 = m0 * D;
  m0 = a11;
  m1 *= -D;
  m3 *= -D;
  m4 = a22;
  const b1 = -m0 * m2 - m1 * m5;
  const b2 = -m3 * m2 - m4 * m5;
  m2 = b1;
  m5 = b2;

  const AB_BITS = 10;
  const AB_SCALE = 1 << AB_BITS;
  const INTER_BITS = 5;
  const TAB = 1 << INTER_BITS;
  const roundDelta = AB_SCALE / TAB / 2;
  const tab = new Float32Array(TAB * TAB * 4);
  for (let iy = 0; iy < TAB; iy++) {
    const fy = f32(iy / TAB);
    for (let ix = 0; ix < TAB; ix++) {
      const fx = f32(ix / TAB);
      const vy = [f32(1 - fy), fy];
      const vx = [f32(1 - fx), fx];
      const t = (iy * TAB + ix) * 4;
      tab[t] = f32(vy[0] * vx[0]);
      tab[t + 1] = f32(vy[0] * vx[1]);
      tab[t + 2] = f32(vy[1] * vx[0]);
      tab[t + 3] = f32(vy[1] * vx[1]);
    }
  }
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    const X0 = rint((m1 * y + m2) * AB_SCALE) + roundDelta;
    const Y0 = rint((m4 * y + m5) * AB_SCALE) + roundDelta;
    for (let x = 0; x < w; x++) {
      const X = (X0 + rint(m0 * x * AB_SCALE)) >> (AB_BITS - INTER_BITS);
      const Y = (Y0 + rint(m3 * x * AB_SCALE)) >> (AB_BITS - INTER_BITS);
      const sx = X >> INTER_BITS;
      const sy = Y >> INTER_BITS;
      const t = ((Y & (TAB - 1)) * TAB + (X & (TAB - 1))) * 4;
      const x0 = reflect101(sx, w);
      const x1 = reflect101(sx + 1, w);
      const y0 = reflect101(sy, h);
      const y1 = reflect101(sy + 1, h);
      for (let ch = 0; ch < c; ch++) {
        const v =
          f32(f32(f32(f32(src[(y0 * w + x0) * c + ch] * tab[t]) + f32(src[(y0 * w + x1) * c + ch] * tab[t + 1])) +
            f32(src[(y1 * w + x0) * c + ch] * tab[t + 2])) + f32(src[(y1 * w + x1) * c + ch] * tab[t + 3]));
        out[(y * w + x) * c + ch] = v;
      }
    }
  }
  return out;
}

/**
 * `cv::cvtColor(img, COLOR_RGB2GRAY)` for float32:
 * `0.299·R + 0.587·G + 0.114·B` in float32.
 *
 * @param img `[h, w, 3]` float32.
 * @returns `[h, w]` float32.
 */
export function rgbToGrayF32(img: Float32Array, h: number, w: number): Float32Array {
  const cr = f32(0.299);
  const cg = f32(0.587);
  const cb = f32(0.114);
  const out = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) {
    out[p] = f32(f32(f32(img[p * 3] * cr) + f32(img[p * 3 + 1] * cg)) + f32(img[p * 3 + 2] * cb));
  }
  return out;
}
