import { ConfigError, Rng, ShapeError } from '@chainz/core';
import { defaultFrostDir, loadFrostTextures, type FrostTexture } from './frost';
import { hsvToRgb, rgbToHsv } from './hsv';
import { motionBlur } from './imagemagick';
import { gaussianFilter, mapCoordinatesLinearReflect, zoomLinear } from './ndimage';
import { arange, clipTruncU8, f32, roundHalfEven, unitToU8 } from './numeric';
import { filter2D, gaussianBlur3x3F32, getAffineTransform, rgbToGrayF32, warpAffineLinearReflect101 } from './opencv';
import {
  BRIGHTNESS,
  CONTRAST,
  CORRUPTIONS,
  DEFOCUS_BLUR,
  ELASTIC,
  FOG,
  FROST,
  GAUSSIAN_NOISE,
  GLASS_BLUR,
  IMPULSE_NOISE,
  JPEG_QUALITY,
  MOTION_BLUR,
  PIXELATE,
  SHOT_NOISE,
  SNOW,
  ZOOM_BLUR_STOP,
  type CorruptionName,
  type Severity,
} from './params';
import { resizeBox } from './pil';
import { loadSharp } from './sharp';
import { normal, poisson, randint, uniform } from './random';

/**
 * The 15 CIFAR-10-C corruptions (Hendrycks & Dietterich, "Benchmarking Neural
 * Network Robustness to Common Corruptions and Perturbations", ICLR 2019),
 * ported from the CIFAR version of the original generator
 * (hendrycks/robustness, `ImageNet-C/create_c/make_cifar_c.py`). Each works on
 * one 32×32 RGB image; see docs/corruptions.md for the algorithms and the
 * measured agreement with the original.
 */

const S = 32;
const PIX = S * S;
const IMG = PIX * 3;

/** `np.uint8(np.clip(v, 0, 1) * 255)` where v and the product are float32. */
function unitToU8F32(v: number): number {
  const c = v < 0 ? 0 : v > 1 ? 1 : v;
  return Math.trunc(f32(c * 255));
}

function toUnit(img: Uint8Array): Float64Array {
  const x = new Float64Array(img.length);
  for (let i = 0; i < img.length; i++) x[i] = img[i] / 255;
  return x;
}

function toUnitF32(img: Uint8Array): Float32Array {
  const x = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) x[i] = img[i] / 255;
  return x;
}

function mapU8(x: ArrayLike<number>, f: (v: number) => number): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  return out;
}

/** Additive Gaussian noise, σ per severity, on [0, 1] pixels. */
function gaussianNoise(img: Uint8Array, s: Severity, rng: Rng): Uint8Array {
  const c = GAUSSIAN_NOISE[s - 1];
  return mapU8(img, (v) => unitToU8(v / 255 + normal(rng, 0, c)));
}

/** Poisson (shot) noise: Poisson(x·c)/c. */
function shotNoise(img: Uint8Array, s: Severity, rng: Rng): Uint8Array {
  const c = SHOT_NOISE[s - 1];
  return mapU8(img, (v) => unitToU8(poisson(rng, (v / 255) * c) / c));
}

/** Salt-and-pepper noise: each value independently replaced with probability `amount`, half by 1, half by 0. */
function impulseNoise(img: Uint8Array, s: Severity, rng: Rng): Uint8Array {
  const amount = IMPULSE_NOISE[s - 1];
  return mapU8(img, (v) => {
    const flipped = rng.next() < amount;
    const salted = rng.next() < 0.5;
    return flipped ? (salted ? 255 : 0) : unitToU8(v / 255);
  });
}

/**
 * The defocus kernel: a 17×17 float32 disk of the given radius normalised to
 * sum 1, anti-aliased by a 3×3 Gaussian of σ `aliasBlur`.
 */
export function defocusKernel(radius: number, aliasBlur: number): Float32Array {
  // The generator uses a 17×17 grid (L = 8) for every radius ≤ 8; larger radii never occur for CIFAR.
  if (radius > 8) throw new RangeError('defocusKernel: radius > 8 is not used by the CIFAR generator');
  const L = 8;
  const n = 2 * L + 1;
  const disk = new Float32Array(n * n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const y = i - L;
      const x = j - L;
      if (x * x + y * y <= radius * radius) {
        disk[i * n + j] = 1;
        count++;
      }
    }
  }
  for (let i = 0; i < disk.length; i++) disk[i] = f32(disk[i] / count);
  return gaussianBlur3x3F32(disk, n, n, aliasBlur);
}

/** Defocus blur: each channel correlated with {@link defocusKernel}. */
function defocusBlur(img: Uint8Array, s: Severity): Uint8Array {
  const [radius, alias] = DEFOCUS_BLUR[s - 1];
  const k = defocusKernel(radius, alias);
  const n = Math.round(Math.sqrt(k.length));
  const out = new Uint8Array(IMG);
  const plane = new Float64Array(PIX);
  for (let ch = 0; ch < 3; ch++) {
    for (let p = 0; p < PIX; p++) plane[p] = img[p * 3 + ch] / 255;
    const r = filter2D(plane, S, S, k, n, n);
    for (let p = 0; p < PIX; p++) out[p * 3 + ch] = unitToU8(r[p]);
  }
  return out;
}

/** Glass blur: Gaussian blur, local pixel copies from a random {−1, 0} neighbour, Gaussian blur again. */
function glassBlur(img: Uint8Array, s: Severity, rng: Rng): Uint8Array {
  const [sigma, delta, iters] = GLASS_BLUR[s - 1];
  const b = gaussianFilter(toUnit(img), S, S, 3, sigma, 'nearest');
  const x = mapU8(b, (v) => clipTruncU8(v * 255));
  for (let it = 0; it < iters; it++) {
    for (let h = S - delta; h > delta; h--) {
      for (let w = S - delta; w > delta; w--) {
        const dx = randint(rng, -delta, delta);
        const dy = randint(rng, -delta, delta);
        const src = ((h + dy) * S + (w + dx)) * 3;
        const dst = (h * S + w) * 3;
        // numpy's tuple "swap" of two views copies x[h', w'] into x[h, w] only.
        x[dst] = x[src];
        x[dst + 1] = x[src + 1];
        x[dst + 2] = x[src + 2];
      }
    }
  }
  return mapU8(gaussianFilter(toUnit(x), S, S, 3, sigma, 'nearest'), unitToU8);
}

/** Motion blur (ImageMagick's) along a uniform random angle in ±45°. */
function motionBlurC(img: Uint8Array, s: Severity, rng: Rng): Uint8Array {
  const [radius, sigma] = MOTION_BLUR[s - 1];
  return motionBlur(img, S, S, 3, radius, sigma, uniform(rng, -45, 45));
}

/**
 * `clipped_zoom`: zoom the centre crop of side ceil(h/z) by z with
 * scipy.ndimage.zoom (order 1), then trim the centre h×h.
 *
 * @param img `[h, h, c]`.
 * @param float32 round the zoomed values to float32 (for a float32 input).
 * @returns `[h, h, c]`.
 */
export function clippedZoom(img: ArrayLike<number>, h: number, c: number, zoom: number, float32: boolean): Float64Array {
  const ch = Math.ceil(h / zoom);
  const top = Math.floor((h - ch) / 2);
  const crop = new Float64Array(ch * ch * c);
  for (let y = 0; y < ch; y++) for (let x = 0; x < ch * c; x++) crop[y * ch * c + x] = img[((top + y) * h) * c + top * c + x];
  const outSize = roundHalfEven(ch * zoom);
  const z = zoomLinear(crop, ch, ch, c, outSize, outSize);
  const trim = Math.floor((outSize - h) / 2);
  const out = new Float64Array(h * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < h * c; x++) {
      const v = z[((trim + y) * outSize) * c + trim * c + x];
      out[y * h * c + x] = float32 ? f32(v) : v;
    }
  }
  return out;
}

/** Zoom blur: average of the image and its zooms by 1, 1.01, … (float32 arithmetic). */
function zoomBlur(img: Uint8Array, s: Severity): Uint8Array {
  const factors = arange(1, ZOOM_BLUR_STOP[s - 1], 0.01);
  const x = toUnitF32(img);
  const acc = new Float32Array(IMG);
  for (const z of factors) {
    const zz = clippedZoom(x, S, 3, z, true);
    for (let i = 0; i < IMG; i++) acc[i] = f32(acc[i] + zz[i]);
  }
  const n = factors.length + 1;
  const out = new Uint8Array(IMG);
  for (let i = 0; i < IMG; i++) out[i] = unitToU8F32(f32(f32(x[i] + acc[i]) / n));
  return out;
}

/** Snow: thresholded zoomed Gaussian noise, motion-blurred, added twice (once rotated 180°) to a brightened image. */
function snow(img: Uint8Array, s: Severity, rng: Rng): Uint8Array {
  const [loc, scale, zoom, thr, radius, sigma, blend] = SNOW[s - 1];
  const x = toUnitF32(img);
  const noise = new Float64Array(PIX);
  for (let i = 0; i < PIX; i++) noise[i] = normal(rng, loc, scale);
  const z = clippedZoom(noise, S, 1, zoom, false);
  const layerU8 = new Uint8Array(PIX);
  for (let i = 0; i < PIX; i++) {
    const v = z[i] < thr ? 0 : z[i];
    layerU8[i] = Math.trunc((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
  }
  const blurred = motionBlur(layerU8, S, S, 1, radius, sigma, uniform(rng, -135, -45));
  const gray = rgbToGrayF32(x, S, S);
  const cBlend = f32(blend);
  const cRest = f32(1 - blend);
  const out = new Uint8Array(IMG);
  for (let p = 0; p < PIX; p++) {
    const g = f32(f32(gray[p] * 1.5) + 0.5);
    const layer = blurred[p] / 255;
    const rot = blurred[PIX - 1 - p] / 255;
    for (let ch = 0; ch < 3; ch++) {
      const v = x[p * 3 + ch];
      const m = v > g ? v : g;
      const xb = f32(f32(cBlend * v) + f32(cRest * m));
      out[p * 3 + ch] = unitToU8(xb + layer + rot);
    }
  }
  return out;
}

/** Frost: blend with a random 32×32 crop of a random frost texture. */
function frost(img: Uint8Array, s: Severity, rng: Rng, textures: FrostTexture[]): Uint8Array {
  const [a, b] = FROST[s - 1];
  const t = textures[randint(rng, 0, 5)];
  const xs = randint(rng, 0, t.h - S);
  const ys = randint(rng, 0, t.w - S);
  const out = new Uint8Array(IMG);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      for (let ch = 0; ch < 3; ch++) {
        const f = t.data[((xs + y) * t.w + ys + x) * 3 + ch];
        out[(y * S + x) * 3 + ch] = clipTruncU8(a * img[(y * S + x) * 3 + ch] + b * f);
      }
    }
  }
  return out;
}

/**
 * Plasma fractal (diamond-square) height map, values in [0, 1].
 *
 * @param mapsize side, a power of two.
 * @param decay the random amplitude ("wibble", starting at 100) is divided by this at each level.
 * @returns `[mapsize, mapsize]` float64.
 */
export function plasmaFractal(rng: Rng, mapsize: number, decay: number): Float64Array {
  const m = new Float64Array(mapsize * mapsize);
  let step = mapsize;
  let wibble = 100;
  const at = (i: number, j: number) => i * mapsize + j;
  const wibbled = (sum: number) => sum / 4 + wibble * uniform(rng, -wibble, wibble);
  while (step >= 2) {
    const k = mapsize / step;
    const half = step / 2;
    // squares: centre of each square = mean of its 4 corners + noise
    const corner = (i: number, j: number) => m[at(((i + k) % k) * step, ((j + k) % k) * step)];
    const sq = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) sq[i * k + j] = corner(i, j) + corner(i + 1, j);
    const sq2 = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) sq2[i * k + j] = sq[i * k + j] + sq[i * k + ((j + 1) % k)];
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m[at(i * step + half, j * step + half)] = wibbled(sq2[i * k + j]);
    // diamonds
    const dr = (i: number, j: number) => m[at(((i + k) % k) * step + half, ((j + k) % k) * step + half)];
    const ul = (i: number, j: number) => m[at(((i + k) % k) * step, ((j + k) % k) * step)];
    const lt = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) lt[i * k + j] = dr(i, j) + dr(i - 1, j) + (ul(i, j) + ul(i, j + 1));
    const tt = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) tt[i * k + j] = dr(i, j) + dr(i, j - 1) + (ul(i, j) + ul(i + 1, j));
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m[at(i * step, j * step + half)] = wibbled(lt[i * k + j]);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m[at(i * step + half, j * step)] = wibbled(tt[i * k + j]);
    step = step / 2;
    wibble /= decay;
  }
  let lo = Infinity;
  for (const v of m) lo = Math.min(lo, v);
  let hi = -Infinity;
  for (let i = 0; i < m.length; i++) {
    m[i] -= lo;
    hi = Math.max(hi, m[i]);
  }
  for (let i = 0; i < m.length; i++) m[i] /= hi;
  return m;
}

/** Fog: add a plasma fractal, then rescale by max/(max + strength). */
function fog(img: Uint8Array, s: Severity, rng: Rng): Uint8Array {
  const [strength, decay] = FOG[s - 1];
  const x = toUnit(img);
  let maxv = -Infinity;
  for (const v of x) maxv = Math.max(maxv, v);
  const p = plasmaFractal(rng, 32, decay);
  const out = new Uint8Array(IMG);
  for (let i = 0; i < IMG; i++) {
    const v = x[i] + strength * p[Math.floor(i / 3)];
    out[i] = unitToU8((v * maxv) / (maxv + strength));
  }
  return out;
}

/** Brightness: add c to the HSV value channel (skimage's conversion). */
function brightness(img: Uint8Array, s: Severity): Uint8Array {
  const c = BRIGHTNESS[s - 1];
  const hsv = [0, 0, 0];
  const rgb = [0, 0, 0];
  const out = new Uint8Array(IMG);
  for (let p = 0; p < PIX; p++) {
    rgbToHsv(img[p * 3] / 255, img[p * 3 + 1] / 255, img[p * 3 + 2] / 255, hsv);
    const v = hsv[2] + c;
    hsvToRgb(hsv[0], hsv[1], v < 0 ? 0 : v > 1 ? 1 : v, rgb);
    out[p * 3] = unitToU8(rgb[0]);
    out[p * 3 + 1] = unitToU8(rgb[1]);
    out[p * 3 + 2] = unitToU8(rgb[2]);
  }
  return out;
}

/** Contrast: (x − mean)·c + mean, mean per channel over the image. */
function contrast(img: Uint8Array, s: Severity): Uint8Array {
  const c = CONTRAST[s - 1];
  const x = toUnit(img);
  const mean = [0, 0, 0];
  for (let p = 0; p < PIX; p++) for (let ch = 0; ch < 3; ch++) mean[ch] += x[p * 3 + ch];
  for (let ch = 0; ch < 3; ch++) mean[ch] /= PIX;
  const out = new Uint8Array(IMG);
  for (let i = 0; i < IMG; i++) out[i] = unitToU8((x[i] - mean[i % 3]) * c + mean[i % 3]);
  return out;
}

/** Elastic transform: random affine jitter of three points, then a smoothed random displacement field. */
function elasticTransform(img: Uint8Array, s: Severity, rng: Rng): Uint8Array {
  const [alpha, sigma, jitter] = ELASTIC[s - 1];
  const image = toUnitF32(img);
  const centre = 16;
  const size = Math.floor(32 / 3);
  const pts1: [number, number][] = [
    [centre + size, centre + size],
    [centre + size, centre - size],
    [centre - size, centre - size],
  ];
  const pts2 = pts1.map(([px, py]) => [f32(px + f32(uniform(rng, -jitter, jitter))), f32(py + f32(uniform(rng, -jitter, jitter)))] as [number, number]);
  const warped = warpAffineLinearReflect101(image, S, S, 3, getAffineTransform(pts1, pts2));
  const field = () => {
    const u = new Float64Array(PIX);
    for (let i = 0; i < PIX; i++) u[i] = uniform(rng, -1, 1);
    const g = gaussianFilter(u, S, S, 1, sigma, 'reflect', 3);
    return g.map((v) => f32(v * alpha));
  };
  const dx = field();
  const dy = field();
  const rows = new Float64Array(PIX);
  const cols = new Float64Array(PIX);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      rows[y * S + x] = y + dy[y * S + x];
      cols[y * S + x] = x + dx[y * S + x];
    }
  }
  const out = mapCoordinatesLinearReflect(warped, S, S, 3, rows, cols);
  return mapU8(out, (v) => unitToU8F32(f32(v)));
}

/** Pixelate: box-resize to int(32·c) and back to 32 (Pillow's BOX filter). */
function pixelate(img: Uint8Array, s: Severity): Uint8Array {
  const side = Math.trunc(32 * PIXELATE[s - 1]);
  return resizeBox(resizeBox(img, S, S, 3, side, side), side, side, 3, S, S);
}

/** JPEG compression at the severity's quality (libjpeg via sharp, 4:2:0 chroma subsampling), decoded back. */
async function jpegCompression(img: Uint8Array, s: Severity): Promise<Uint8Array> {
  const sharp = await loadSharp('jpeg_compression');
  const quality = JPEG_QUALITY[s - 1];
  const enc = await sharp(Buffer.from(img.buffer, img.byteOffset, img.length), { raw: { width: S, height: S, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0' })
    .toBuffer();
  const { data, info } = await sharp(enc).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== IMG) {
    throw new Error(`jpeg_compression: decoder returned ${info.width}×${info.height}×${info.channels}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length).slice();
}

/** Options of {@link corrupt}. */
export interface CorruptOptions {
  /** Seed of the random stream (`@chainz/core` Rng); default 0. Same seed, same output. */
  seed?: number;
  /** Folder holding frost1.png … frost5.jpg; default `<CHAINZ_DATA_DIR>/cifar10c/frost`. */
  frostDir?: string;
}

/**
 * Apply one CIFAR-10-C corruption at one severity to a batch of 32×32 RGB
 * images (Hendrycks & Dietterich 2019; CIFAR parameters of the original
 * generator). Random corruptions draw from one seeded stream, image after
 * image, so the result is reproducible for a given seed; they match the
 * original in distribution, not bit for bit (numpy's streams are not
 * reproduced). Deterministic ones reproduce the original's arithmetic.
 *
 * @param images `[n, 32, 32, 3]` uint8, HWC (e.g. from `readCifar10Binary`).
 * @param n number of images.
 * @param name one of {@link CORRUPTIONS}.
 * @param severity 1 … 5.
 * @param opts `seed` (default 0), `frostDir` for the frost textures.
 * @returns `[n, 32, 32, 3]` uint8, HWC (a new array).
 * @throws ShapeError if `images.length !== n·3072`; ConfigError for an
 *   unknown corruption or a severity outside 1…5; DataError (naming the file)
 *   if a frost texture is missing.
 */
export async function corrupt(images: Uint8Array, n: number, name: CorruptionName, severity: Severity, opts: CorruptOptions = {}): Promise<Uint8Array> {
  if (!Number.isInteger(n) || n < 0 || images.length !== n * IMG) {
    throw new ShapeError(`expected [${n}, 32, 32, 3] uint8 (${n * IMG} values), got ${images.length} values`, { tensor: 'images' });
  }
  if (!(CORRUPTIONS as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown corruption '${name}' (valid: ${CORRUPTIONS.join(', ')})`, { option: 'name' });
  }
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) {
    throw new ConfigError(`severity must be an integer 1…5, got ${severity}`, { option: 'severity' });
  }
  const rng = new Rng(opts.seed ?? 0);
  const textures = name === 'frost' ? await loadFrostTextures(opts.frostDir ?? defaultFrostDir()) : undefined;
  const out = new Uint8Array(images.length);
  for (let i = 0; i < n; i++) {
    const img = images.subarray(i * IMG, (i + 1) * IMG);
    let r: Uint8Array;
    switch (name) {
      case 'gaussian_noise':
        r = gaussianNoise(img, severity, rng);
        break;
      case 'shot_noise':
        r = shotNoise(img, severity, rng);
        break;
      case 'impulse_noise':
        r = impulseNoise(img, severity, rng);
        break;
      case 'defocus_blur':
        r = defocusBlur(img, severity);
        break;
      case 'glass_blur':
        r = glassBlur(img, severity, rng);
        break;
      case 'motion_blur':
        r = motionBlurC(img, severity, rng);
        break;
      case 'zoom_blur':
        r = zoomBlur(img, severity);
        break;
      case 'snow':
        r = snow(img, severity, rng);
        break;
      case 'frost':
        r = frost(img, severity, rng, textures!);
        break;
      case 'fog':
        r = fog(img, severity, rng);
        break;
      case 'brightness':
        r = brightness(img, severity);
        break;
      case 'contrast':
        r = contrast(img, severity);
        break;
      case 'elastic_transform':
        r = elasticTransform(img, severity, rng);
        break;
      case 'pixelate':
        r = pixelate(img, severity);
        break;
      case 'jpeg_compression':
        r = await jpegCompression(img, severity);
        break;
    }
    out.set(r, i * IMG);
  }
  return out;
}
