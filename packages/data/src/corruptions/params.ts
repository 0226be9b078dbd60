/**
 * Severity parameters of the 15 CIFAR-10-C corruptions (Hendrycks &
 * Dietterich 2019, CIFAR version of the generator), index 0 = severity 1.
 */

/** The 15 CIFAR-10-C corruptions, in the official order. */
export const CORRUPTIONS = Object.freeze([
  'gaussian_noise',
  'shot_noise',
  'impulse_noise',
  'defocus_blur',
  'glass_blur',
  'motion_blur',
  'zoom_blur',
  'snow',
  'frost',
  'fog',
  'brightness',
  'contrast',
  'elastic_transform',
  'pixelate',
  'jpeg_compression',
] as const);

/** A CIFAR-10-C corruption name. */
export type CorruptionName = (typeof CORRUPTIONS)[number];

/** Corruption severity, 1 (mildest) to 5. */
export type Severity = 1 | 2 | 3 | 4 | 5;

/** Standard deviation of the additive Gaussian noise (on [0, 1] pixels). */
export const GAUSSIAN_NOISE = [0.04, 0.06, 0.08, 0.09, 0.1];
/** Photon count scale c: pixel ← Poisson(x·c)/c. */
export const SHOT_NOISE = [500, 250, 100, 75, 50];
/** Fraction of values replaced by salt or pepper. */
export const IMPULSE_NOISE = [0.01, 0.02, 0.03, 0.05, 0.07];
/** Disk radius and the σ of the 3×3 Gaussian that anti-aliases it. */
export const DEFOCUS_BLUR: [number, number][] = [
  [0.3, 0.4],
  [0.4, 0.5],
  [0.5, 0.6],
  [1, 0.2],
  [1.5, 0.1],
];
/** Gaussian σ, maximum pixel displacement, iterations. */
export const GLASS_BLUR: [number, number, number][] = [
  [0.05, 1, 1],
  [0.25, 1, 1],
  [0.4, 1, 1],
  [0.25, 1, 2],
  [0.4, 1, 2],
];
/** ImageMagick motion-blur radius and σ (angle uniform in ±45°). */
export const MOTION_BLUR: [number, number][] = [
  [6, 1],
  [6, 1.5],
  [6, 2],
  [8, 2],
  [9, 2.5],
];
/** `stop` of `np.arange(1, stop, 0.01)`: the zoom factors averaged. */
export const ZOOM_BLUR_STOP = [1.06, 1.11, 1.16, 1.21, 1.26];
/** Snow: noise mean, noise std, zoom, threshold, blur radius, blur σ, blend of the image. */
export const SNOW: [number, number, number, number, number, number, number][] = [
  [0.1, 0.2, 1, 0.6, 8, 3, 0.95],
  [0.1, 0.2, 1, 0.5, 10, 4, 0.9],
  [0.15, 0.3, 1.75, 0.55, 10, 4, 0.9],
  [0.25, 0.3, 2.25, 0.6, 12, 6, 0.85],
  [0.3, 0.3, 1.25, 0.65, 14, 12, 0.8],
];
/** Frost: weight of the image, weight of the frost texture. */
export const FROST: [number, number][] = [
  [1, 0.2],
  [1, 0.3],
  [0.9, 0.4],
  [0.85, 0.4],
  [0.75, 0.45],
];
/** Fog: strength of the plasma fractal, its wibble decay. */
export const FOG: [number, number][] = [
  [0.2, 3],
  [0.5, 3],
  [0.75, 2.5],
  [1, 2],
  [1.5, 1.75],
];
/** Added to the HSV value channel. */
export const BRIGHTNESS = [0.05, 0.1, 0.15, 0.2, 0.3];
/** Contrast factor around the per-channel mean. */
export const CONTRAST = [0.75, 0.5, 0.4, 0.3, 0.15];
/** Elastic: displacement scale α, displacement smoothing σ, affine jitter (pixels), all ×32 (image size). */
export const ELASTIC: [number, number, number][] = [
  [32 * 0, 32 * 0, 32 * 0.08],
  [32 * 0.05, 32 * 0.2, 32 * 0.07],
  [32 * 0.08, 32 * 0.06, 32 * 0.06],
  [32 * 0.1, 32 * 0.04, 32 * 0.05],
  [32 * 0.1, 32 * 0.03, 32 * 0.03],
];
/** Pixelate: the image is box-resized to int(32·c) and back. */
export const PIXELATE = [0.95, 0.9, 0.85, 0.75, 0.65];
/** JPEG quality. */
export const JPEG_QUALITY = [80, 65, 58, 50, 40];
