/**
 * scikit-image's (0.19) `rgb2hsv` / `hsv2rgb` for one pixel with components
 * in [0, 1] (float64), in the same arithmetic:
 *
 * - V = max, S = (max − min)/V (0 where max = min);
 * - H from the channel holding the max — red, then green, then blue win in
 *   that order of overwriting — as `(g − b)/Δ`, `2 + (b − r)/Δ`,
 *   `4 + (r − g)/Δ`, divided by 6, modulo 1 (numpy's floor modulo);
 * - back: `i = floor(6H) mod 6`, `f = 6H − floor(6H)`, `p = V(1 − S)`,
 *   `q = V(1 − fS)`, `t = V(1 − (1 − f)S)`, then the usual sextant table.
 */

/** RGB → HSV; writes into `out` (length 3). */
export function rgbToHsv(r: number, g: number, b: number, out: Float64Array | number[]): void {
  const v = Math.max(r, g, b);
  const delta = v - Math.min(r, g, b);
  let s = delta / v;
  if (delta === 0) s = 0;
  let h = 0;
  if (r === v) h = (g - b) / delta;
  if (g === v) h = 2 + (b - r) / delta;
  if (b === v) h = 4 + (r - g) / delta;
  let hh = (h / 6) % 1;
  if (hh !== 0 && hh < 0) hh += 1;
  if (delta === 0) hh = 0;
  out[0] = Number.isNaN(hh) ? 0 : hh;
  out[1] = Number.isNaN(s) ? 0 : s;
  out[2] = Number.isNaN(v) ? 0 : v;
}

/** HSV → RGB; writes into `out` (length 3). */
export function hsvToRgb(h: number, s: number, v: number, out: Float64Array | number[]): void {
  const hi = Math.floor(h * 6);
  const f = h * 6 - hi;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (((hi % 6) + 6) % 6) {
    case 0:
      out[0] = v, out[1] = t, out[2] = p;
      break;
    case 1:
      out[0] = q, out[1] = v, out[2] = p;
      break;
    case 2:
      out[0] = p, out[1] = v, out[2] = t;
      break;
    case 3:
      out[0] = p, out[1] = q, out[2] = v;
      break;
    case 4:
      out[0] = t, out[1] = p, out[2] = v;
      break;
    default:
      out[0] = v, out[1] = p, out[2] = q;
  }
}
