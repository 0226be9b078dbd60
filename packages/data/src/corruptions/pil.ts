/**
 * Pillow's (9.x) `Image.resize(size, Image.BOX)` for 8-bit images,
 * re-implemented from its resampling definition: a separable box filter
 * whose support scales with the reduction factor, coefficients normalised
 * per output pixel and converted to 22-bit fixed point, horizontal pass
 * (rounded to uint8) then vertical pass.
 */

const PRECISION_BITS = 32 - 8 - 2;

/** Per output pixel: first input index, number of taps and fixed-point weights. */
function boxCoeffs(inSize: number, outSize: number): { xmin: Int32Array; xcount: Int32Array; ksize: number; k: Int32Array } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 0.5 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const xmin = new Int32Array(outSize);
  const xcount = new Int32Array(outSize);
  const k = new Int32Array(outSize * ksize);
  const ss = 1 / filterscale;
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let lo = Math.trunc(center - support + 0.5);
    if (lo < 0) lo = 0;
    let hi = Math.trunc(center + support + 0.5);
    if (hi > inSize) hi = inSize;
    const n = hi - lo;
    let ww = 0;
    for (let x = 0; x < n; x++) {
      const t = (x + lo - center + 0.5) * ss;
      w[x] = t > -0.5 && t <= 0.5 ? 1 : 0;
      ww += w[x];
    }
    for (let x = 0; x < n; x++) {
      const v = ww !== 0 ? w[x] / ww : w[x];
      k[xx * ksize + x] = Math.trunc(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
    }
    xmin[xx] = lo;
    xcount[xx] = n;
  }
  return { xmin, xcount, ksize, k };
}

function clip8(v: number): number {
  const s = Math.floor(v / 2 ** PRECISION_BITS);
  return s < 0 ? 0 : s > 255 ? 255 : s;
}

/**
 * Resize with Pillow's BOX filter.
 *
 * @param src `[h, w, c]` uint8.
 * @returns `[outH, outW, c]` uint8.
 */
export function resizeBox(src: Uint8Array, h: number, w: number, c: number, outW: number, outH: number): Uint8Array {
  let cur = src;
  let cw = w;
  const half = 1 << (PRECISION_BITS - 1);
  if (outW !== w) {
    const { xmin, xcount, ksize, k } = boxCoeffs(w, outW);
    const tmp = new Uint8Array(h * outW * c);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < outW; xx++) {
        for (let ch = 0; ch < c; ch++) {
          let s = half;
          for (let x = 0; x < xcount[xx]; x++) s += cur[(y * cw + xmin[xx] + x) * c + ch] * k[xx * ksize + x];
          tmp[(y * outW + xx) * c + ch] = clip8(s);
        }
      }
    }
    cur = tmp;
    cw = outW;
  }
  if (outH !== h) {
    const { xmin, xcount, ksize, k } = boxCoeffs(h, outH);
    const tmp = new Uint8Array(outH * cw * c);
    for (let yy = 0; yy < outH; yy++) {
      for (let x = 0; x < cw; x++) {
        for (let ch = 0; ch < c; ch++) {
          let s = half;
          for (let y = 0; y < xcount[yy]; y++) s += cur[((xmin[yy] + y) * cw + x) * c + ch] * k[yy * ksize + y];
          tmp[(yy * cw + x) * c + ch] = clip8(s);
        }
      }
    }
    cur = tmp;
  }
  return cur === src ? Uint8Array.from(src) : cur;
}
