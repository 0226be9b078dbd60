/**
 * ImageMagick 6's `MotionBlurImage(radius, sigma, angle)` as the CIFAR-10-C
 * generator calls it through Wand on an 8-bit PNG (Q16 build), re-implemented
 * from its documented algorithm:
 *
 * - kernel width `2·ceil(radius) + 1`, one-sided Gaussian weights
 *   `exp(−i²/(2σ²))`, i = 0 … width−1, normalised to sum 1;
 * - tap i reads the pixel at offset `(round(i·cos a), round(i·sin a))` from the
 *   current one (`ceil(v − 0.5)` rounding), edge pixels repeated outside the
 *   image (ImageMagick's default virtual-pixel method);
 * - 8-bit samples are scaled to 16 bits (×257) and the weighted sum is
 *   rounded to a 16-bit quantum q; the 8-bit result is ⌊q/257⌋. This
 *   truncating last step is what the generator's ImageMagick build did: with
 *   the blur angle searched per image, this model reproduces the golden
 *   motion_blur images bit for bit, while rounding (ImageMagick's documented
 *   `ScaleQuantumToChar`) leaves every output about half a grey level too high.
 */

/** Kernel weights and pixel offsets of a motion blur. */
export function motionBlurKernel(radius: number, sigma: number, angleDeg: number): { weights: Float64Array; dx: Int32Array; dy: Int32Array } {
  const width = radius > 1e-12 ? 2 * Math.ceil(radius) + 1 : 3;
  const s = Math.abs(sigma) < 1e-12 ? 1e-12 : sigma;
  const weights = new Float64Array(width);
  let norm = 0;
  for (let i = 0; i < width; i++) {
    weights[i] = Math.exp(-(i * i) / (2 * s * s)) / (Math.sqrt(2 * Math.PI) * s);
    norm += weights[i];
  }
  for (let i = 0; i < width; i++) weights[i] /= norm;
  const a = (angleDeg * Math.PI) / 180;
  const px = width * Math.sin(a);
  const py = width * Math.cos(a);
  const hyp = Math.hypot(px, py);
  const dx = new Int32Array(width);
  const dy = new Int32Array(width);
  for (let i = 0; i < width; i++) {
    dx[i] = Math.ceil((i * py) / hyp - 0.5);
    dy[i] = Math.ceil((i * px) / hyp - 0.5);
  }
  return { weights, dx, dy };
}

/**
 * Motion-blur an 8-bit image.
 *
 * @param src `[h, w, c]` uint8 (c = 1 grey or 3 RGB).
 * @param radius kernel radius in pixels (not counting the centre).
 * @param sigma Gaussian σ in pixels.
 * @param angleDeg direction of the blur in degrees (0 = towards +x, 90 = towards +y).
 * @returns `[h, w, c]` uint8.
 */
export function motionBlur(src: Uint8Array, h: number, w: number, c: number, radius: number, sigma: number, angleDeg: number): Uint8Array {
  const { weights, dx, dy } = motionBlurKernel(radius, sigma, angleDeg);
  const out = new Uint8Array(src.length);
  const n = weights.length;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = 0; i < n; i++) {
          const yy = Math.min(h - 1, Math.max(0, y + dy[i]));
          const xx = Math.min(w - 1, Math.max(0, x + dx[i]));
          s += weights[i] * (src[(yy * w + xx) * c + ch] * 257);
        }
        const q = s <= 0 ? 0 : s >= 65535 ? 65535 : Math.floor(s + 0.5);
        out[(y * w + x) * c + ch] = Math.floor(q / 257);
      }
    }
  }
  return out;
}
