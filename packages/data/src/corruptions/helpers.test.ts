// Unit tests of the re-implemented library routines. Reference values marked
// "scipy" were computed with scipy.ndimage (1.17) on the same inputs.
import { describe, expect, it } from 'vitest';
import { Rng } from '@chainz/core';
import { hsvToRgb, rgbToHsv } from './hsv';
import { motionBlur, motionBlurKernel } from './imagemagick';
import { gaussianFilter, gaussianWeights, mapCoordinatesLinearReflect, zoomLinear } from './ndimage';
import { arange, f32, pairwiseSum, roundHalfEven, unitToU8 } from './numeric';
import { gaussianBlur3x3F32, gaussianKernel, getAffineTransform, reflect101, resizeLinearU8, rgbToGrayF32, warpAffineLinearReflect101 } from './opencv';
import { resizeBox } from './pil';
import { logFactorial, poisson } from './random';

const A = [0.0, 0.7, 0.3, 1.0, 0.6, 0.2, 0.9, 0.5, 0.1, 0.8, 0.4, 0.0, 0.7, 0.3, 1.0, 0.6, 0.2, 0.9, 0.5, 0.1]; // 5×4

function expectClose(got: ArrayLike<number>, want: number[], digits = 12): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], digits);
}

describe('numpy semantics', () => {
  it('arange keeps numpy lengths (7, 12, 16, 21, 26 zoom factors) and fill rule', () => {
    expect([1.06, 1.11, 1.16, 1.21, 1.26].map((s) => arange(1, s, 0.01).length)).toEqual([7, 12, 16, 21, 26]);
    const a = arange(1, 1.26, 0.01);
    const delta = 1 + 0.01 - 1;
    expect(a[25]).toBe(1 + 25 * delta);
    expect(a[25]).not.toBe(1 + 25 * 0.01);
  });
  it('roundHalfEven is Python round; pairwiseSum is np.sum; unitToU8 truncates', () => {
    expect([0.5, 1.5, 2.5, 32.5, -2.5, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 32, -2, 3]);
    const tenth = new Array(10).fill(0.1);
    expect(pairwiseSum(tenth)).toBe(1); // np.sum([0.1]*10) == 1.0
    expect(tenth.reduce((a, b) => a + b)).toBe(0.9999999999999999);
    expect(unitToU8(0.9999)).toBe(254);
    expect(unitToU8(1.3)).toBe(255);
    expect(unitToU8(-0.1)).toBe(0);
  });
});

describe('scipy.ndimage ports', () => {
  it('gaussian_filter, mode nearest (σ 0.8, truncate 4) matches scipy', () => {
    const got = gaussianFilter(Float64Array.from(A), 5, 4, 1, 0.8, 'nearest', 4);
    expectClose(got, [
      0.24874674487065815, 0.4477606962081249, 0.5730046846791529, 0.7605279305637607, 0.3731892668230272, 0.473391950666896,
      0.5601899372824459, 0.5404255760987066, 0.4028224225788323, 0.5165459487581023, 0.5269821359845717, 0.36745656138918403,
      0.47078877514703554, 0.5649607954581839, 0.5889178250200544, 0.43189619448723904, 0.4210380949424892, 0.6019919867323775,
      0.5390458332300393, 0.31552401842891453,
    ]);
  });
  it('gaussian_filter, mode reflect with a radius larger than the image (σ 2, truncate 3) matches scipy', () => {
    const got = gaussianFilter(Float64Array.from(A), 5, 4, 1, 2, 'reflect', 3);
    expectClose(got, [
      0.4520004225873645, 0.4766404526148881, 0.5101210424145248, 0.5329520185519604, 0.4600188420936852, 0.47901138771757024,
      0.50418049947423, 0.5208447340855501, 0.47270627959819334, 0.4834340133734533, 0.49639688478692934, 0.5039907027175039,
      0.48471556410300054, 0.4882180943295098, 0.4904444271840022, 0.49003864666568825, 0.4919374528221528, 0.4914968841282559,
      0.48782976190579763, 0.4830218888457393,
    ]);
    expect(gaussianWeights(2, 3).length).toBe(13);
    expect(pairwiseSum(gaussianWeights(2, 3))).toBeCloseTo(1, 15);
  });
  it('zoom(order=1) of a float32 4×4 image to 5×5 matches scipy bit for bit', () => {
    const img = Float32Array.from(A.slice(0, 16));
    const got = Array.from(zoomLinear(img, 4, 4, 1, 5, 5), f32);
    expect(got).toEqual(
      [
        0.0, 0.5249999761581421, 0.5, 0.4750000238418579, 1.0, 0.45000001788139343, 0.35625001788139343, 0.5374999642372131, 0.71875,
        0.625, 0.3500000238418579, 0.4625000059604645, 0.574999988079071, 0.550000011920929, 0.25, 0.25, 0.5687500238418579,
        0.612500011920929, 0.45000001788139343, 0.15000000596046448, 0.699999988079071, 0.4000000059604645, 0.6499999761581421,
        0.8999999761581421, 0.6000000238418579,
      ].map(f32),
    );
  });
  it('map_coordinates(order=1, mode=reflect) with coordinates outside the image matches scipy', () => {
    const img = new Float64Array(40);
    for (let p = 0; p < 20; p++) (img[2 * p] = A[p]), (img[2 * p + 1] = 1 - A[p]);
    // 8 sample points, given as a 2×4 "image" of coordinates.
    const rows = [-0.7, -0.2, 0.0, 1.5, 3.9, 4.6, 9.3, 2.25];
    const cols = [0.3, -1.6, 3.2, 2.7, 0.0, 3.5, -0.01, 1.75];
    const out = new Float64Array(16);
    for (let k = 0; k < 8; k++) {
      // Sample one point at a time through a 1×1 output grid.
      const r = mapCoordinatesLinearReflectAt(img, rows[k], cols[k]);
      out[2 * k] = r[0];
      out[2 * k + 1] = r[1];
    }
    expectClose(out, [0.21, 0.79, 0.42, 0.58, 1.0, 0.0, 0.37, 0.63, 0.25, 0.75, 0.1, 0.9, 0.0, 1.0, 0.58125, 0.41875], 14);
  });
});

/** map_coordinates at one point of the 5×4×2 test image. */
function mapCoordinatesLinearReflectAt(img: Float64Array, r: number, c: number): number[] {
  // mapCoordinatesLinearReflect samples an [h, w] grid of points; use the
  // image's own size and read back the first output pixel.
  const rows = new Float64Array(20).fill(r);
  const cols = new Float64Array(20).fill(c);
  const out = mapCoordinatesLinearReflect(img, 5, 4, 2, rows, cols);
  return [out[0], out[1]];
}

describe('OpenCV ports', () => {
  it('BORDER_REFLECT_101 and getGaussianKernel', () => {
    expect([-3, -2, -1, 0, 4, 5, 6, 7].map((i) => reflect101(i, 5))).toEqual([3, 2, 1, 0, 4, 3, 2, 1]);
    const k = gaussianKernel(3, 0.5);
    const e = Math.exp(-1 / (2 * 0.25));
    expectClose(k, [e / (1 + 2 * e), 1 / (1 + 2 * e), e / (1 + 2 * e)], 15);
  });
  it('a 3×3 Gaussian blur preserves a constant image and spreads an impulse by the kernel', () => {
    const one = new Float32Array(25).fill(0.5);
    expect(Array.from(gaussianBlur3x3F32(one, 5, 5, 0.6)).every((v) => Math.abs(v - 0.5) < 1e-7)).toBe(true);
    const imp = new Float32Array(25);
    imp[12] = 1;
    const b = gaussianBlur3x3F32(imp, 5, 5, 0.6);
    const k = gaussianKernel(3, 0.6);
    expect(b[12]).toBeCloseTo(k[1] * k[1], 6);
    expect(b[6]).toBeCloseTo(k[0] * k[0], 6);
    expect(b[0]).toBe(0);
  });
  it('resize by 0.2 (INTER_LINEAR) samples pixel 5i+2, as OpenCV does for an integer factor', () => {
    const src = new Uint8Array(20 * 15 * 3).map((_, i) => (i * 37) % 251);
    const r = resizeLinearU8(src, 15, 20, 3, 0.2, 0.2);
    expect([r.w, r.h]).toEqual([4, 3]);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) for (let c = 0; c < 3; c++) {
      expect(r.data[(y * 4 + x) * 3 + c]).toBe(src[((5 * y + 2) * 20 + 5 * x + 2) * 3 + c]);
    }
    // Upscaling by 2 interpolates halfway values (rounded).
    const up = resizeLinearU8(new Uint8Array([0, 100]), 1, 2, 1, 2, 1);
    expect(Array.from(up.data)).toEqual([0, 25, 75, 100]);
  });
  it('getAffineTransform maps the three points; warpAffine with the identity returns the image', () => {
    const src: [number, number][] = [[26, 26], [26, 6], [6, 6]];
    const dst: [number, number][] = [[27.5, 25], [24, 7.25], [6.5, 4]];
    const m = getAffineTransform(src, dst);
    for (let i = 0; i < 3; i++) {
      expect(m[0] * src[i][0] + m[1] * src[i][1] + m[2]).toBeCloseTo(dst[i][0], 12);
      expect(m[3] * src[i][0] + m[4] * src[i][1] + m[5]).toBeCloseTo(dst[i][1], 12);
    }
    const img = Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => f32(((i * 13) % 17) / 17));
    expect(Array.from(warpAffineLinearReflect101(img, 8, 8, 3, [1, 0, 0, 0, 1, 0]))).toEqual(Array.from(img));
    // A shift by one pixel to the right: out(x) = in(x − 1), reflected at the left edge.
    const sh = warpAffineLinearReflect101(img, 8, 8, 3, [1, 0, 1, 0, 1, 0]);
    expect(sh[(2 * 8 + 5) * 3 + 1]).toBe(img[(2 * 8 + 4) * 3 + 1]);
    expect(sh[(2 * 8 + 0) * 3 + 1]).toBe(img[(2 * 8 + 1) * 3 + 1]);
  });
  it('RGB2GRAY weights', () => {
    const g = rgbToGrayF32(Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), 1, 3);
    expect(Array.from(g)).toEqual([f32(0.299), f32(0.587), f32(0.114)]);
  });
});

describe('ImageMagick motion blur and Pillow box resize', () => {
  it('kernel: width 2·ceil(r)+1, weights sum to 1, offsets follow the angle', () => {
    const k = motionBlurKernel(6, 1, 0);
    expect(k.weights.length).toBe(13);
    expect(k.weights.reduce((a, b) => a + b)).toBeCloseTo(1, 14);
    expect(Array.from(k.dx.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    expect(Array.from(k.dy.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    const k90 = motionBlurKernel(8.5, 2, -90);
    expect(k90.weights.length).toBe(19);
    expect(Array.from(k90.dy.subarray(0, 3))).toEqual([0, -1, -2]);
    expect(Array.from(k90.dx.subarray(0, 3)).map(Math.abs)).toEqual([0, 0, 0]);
  });
  it('blur keeps a constant image and smears a bright column along x only at angle 0', () => {
    const flat = new Uint8Array(8 * 8 * 3).fill(173);
    expect(Array.from(motionBlur(flat, 8, 8, 3, 3, 1, 17)).every((v) => v === 173)).toBe(true);
    const img = new Uint8Array(8 * 8);
    for (let y = 0; y < 8; y++) img[y * 8 + 5] = 200;
    const b = motionBlur(img, 8, 8, 1, 3, 1.5, 0);
    // Pixels left of the column see it through the kernel (taps at +x); pixels right of it do not.
    expect(b[3 * 8 + 4]).toBeGreaterThan(0);
    expect(b[3 * 8 + 6]).toBe(0);
    for (let y = 1; y < 8; y++) expect(b[y * 8 + 4]).toBe(b[4]);
  });
  it('box resize averages (4→2) and replicates (2→4) with fixed-point rounding', () => {
    const row = new Uint8Array([10, 21, 200, 100]);
    expect(Array.from(resizeBox(row, 1, 4, 1, 2, 1))).toEqual([16, 150]); // 15.5 → 16, 150
    expect(Array.from(resizeBox(new Uint8Array([7, 9]), 1, 2, 1, 4, 1))).toEqual([7, 7, 9, 9]);
    // 3→2: output 0 is centred at 0.75 with support ±0.75 and takes inputs 0 and 1
    // whole ((0 + 90)/2); output 1 (centre 2.25) has only input 2 in range.
    // Pillow's BOX weights are 0/1 per input sample, not area fractions.
    expect(Array.from(resizeBox(new Uint8Array([0, 90, 180]), 1, 3, 1, 2, 1))).toEqual([45, 180]);
  });
});

describe('skimage HSV and random draws', () => {
  it('HSV conversion: known values and round trip', () => {
    const o = [0, 0, 0];
    rgbToHsv(1, 0, 0, o);
    expect(o).toEqual([0, 1, 1]);
    rgbToHsv(0.2, 0.4, 0.8, o);
    expect(o[0]).toBeCloseTo(0.6111111111111112, 15);
    expect(o[1]).toBeCloseTo(0.75, 15);
    rgbToHsv(0.3, 0.3, 0.3, o);
    expect(o).toEqual([0, 0, 0.3]);
    const r = new Rng(3);
    const back = [0, 0, 0];
    for (let i = 0; i < 200; i++) {
      const c = [r.next(), r.next(), r.next()];
      rgbToHsv(c[0], c[1], c[2], o);
      hsvToRgb(o[0], o[1], o[2], back);
      for (let k = 0; k < 3; k++) expect(back[k]).toBeCloseTo(c[k], 12);
    }
  });
  it('Poisson draws have the right mean and variance for small and large λ', () => {
    expect(logFactorial(5)).toBeCloseTo(Math.log(120), 12);
    expect(logFactorial(40)).toBeCloseTo(110.32063971475741, 9);
    for (const lam of [0.7, 4, 37.5, 400]) {
      const r = new Rng(11);
      const n = 20000;
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const k = poisson(r, lam);
        s += k;
        s2 += k * k;
      }
      const mean = s / n;
      const variance = s2 / n - mean * mean;
      expect(Math.abs(mean - lam)).toBeLessThan(4 * Math.sqrt(lam / n));
      expect(Math.abs(variance / lam - 1)).toBeLessThan(0.05);
    }
  });
});
