import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '@chainz/core';

/*
 * 2-D convolution (channels last, NHWC) with a hand-written backward pass.
 *
 * tfjs 4.22's wasm backend registers Conv2D (XNNPACK) and a slow
 * Conv2DBackpropInput, but no Conv2DBackpropFilter, so `tf.conv2d` cannot be
 * trained there at all. This op computes both gradients with forward
 * convolutions, which every backend has:
 *
 * - dx: the full correlation of the stride-dilated dy with the spatially flipped,
 *   channel-transposed kernel (a stride-1 VALID conv2d after padding);
 * - dK: a stride-1 conv2d with dilation s of the padded input seen as
 *   `[C_in, H_p, W_p, B]` with dy seen as the filter `[H', W', B, C_out]`
 *   (output `[C_in, kh, kw, C_out]`, transposed to `[kh, kw, C_in, C_out]`).
 *
 * Both are exact (the same sums in another order); tested against tf.conv2d's own
 * gradients on the cpu backend for strides 1–3, SAME/VALID, odd and even kernels.
 */

/** Padding of a convolution: TensorFlow's `'same'` (output ⌈H/s⌉) or `'valid'` (no padding). */
export type Conv2dPadding = 'same' | 'valid';

/** Geometry of one spatial axis of a convolution. */
export interface ConvAxisGeometry {
  /** Input size. */
  in: number;
  /** Output size: ⌈in/s⌉ (same) or ⌊(in − k)/s⌋ + 1 (valid). */
  out: number;
  /** Zero rows/columns added before the input (same: ⌊total/2⌋, TensorFlow's convention). */
  padBefore: number;
  /** Zero rows/columns added after the input (same: total − padBefore). */
  padAfter: number;
}

/** Geometry of a 2-D convolution over `[H, W]` with kernel `[kh, kw]`. */
export interface Conv2dGeometry {
  kernel: [number, number];
  strides: [number, number];
  padding: Conv2dPadding;
  h: ConvAxisGeometry;
  w: ConvAxisGeometry;
}

function axis(n: number, k: number, s: number, padding: Conv2dPadding, what: string): ConvAxisGeometry {
  if (padding === 'valid') {
    if (n < k) throw new ShapeError(`${what}: input size ${n} is smaller than the kernel (${k}) with 'valid' padding`, { tensor: 'x' });
    return { in: n, out: Math.floor((n - k) / s) + 1, padBefore: 0, padAfter: 0 };
  }
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + k - n, 0);
  const padBefore = Math.floor(total / 2);
  return { in: n, out, padBefore, padAfter: total - padBefore };
}

/** Normalises a stride given as a number or a pair; throws ConfigError naming `strides`. */
export function normalizeStrides(strides: number | [number, number] | undefined): [number, number] {
  const s: [number, number] = strides === undefined ? [1, 1] : typeof strides === 'number' ? [strides, strides] : [strides[0], strides[1]];
  if (!s.every((v) => Number.isInteger(v) && v >= 1)) throw new ConfigError(`must be a positive integer or a pair of them, got ${JSON.stringify(strides)}`, { option: 'strides' });
  return s;
}

/** Validates a padding name; throws ConfigError naming `padding`. */
export function normalizePadding(padding: string | undefined): Conv2dPadding {
  const p = padding ?? 'same';
  if (p !== 'same' && p !== 'valid') throw new ConfigError(`must be 'same' or 'valid', got ${JSON.stringify(padding)}`, { option: 'padding' });
  return p;
}

/**
 * Output size and padding of a convolution, with TensorFlow's conventions
 * (SAME: output ⌈H/s⌉, total padding max((H'−1)·s + k − H, 0), the smaller half before).
 *
 * @param inputHW `[H, W]`.
 * @param kernelHW `[kh, kw]`.
 * @param strides a number or `[s_h, s_w]` (default 1).
 * @param padding `'same'` (default) or `'valid'`.
 * @throws ConfigError for bad strides/padding; ShapeError when a VALID input is smaller than the kernel.
 */
export function conv2dGeometry(inputHW: [number, number], kernelHW: [number, number], strides?: number | [number, number], padding?: Conv2dPadding): Conv2dGeometry {
  const s = normalizeStrides(strides);
  const p = normalizePadding(padding);
  return {
    kernel: [kernelHW[0], kernelHW[1]],
    strides: s,
    padding: p,
    h: axis(inputHW[0], kernelHW[0], s[0], p, 'height'),
    w: axis(inputHW[1], kernelHW[1], s[1], p, 'width'),
  };
}

/**
 * Which kernel taps fall inside the (unpadded) input, per output position:
 * `mask[p·T + t] = 1` when tap t = i·kw + j of output position p = y·W' + x reads
 * input pixel (y·s_h + i − pad_top, x·s_w + j − pad_left) inside the image, else 0.
 * `mask · S` (S: `[T, C]`) equals conv2d(ones[1, H, W, 1], S as `[kh, kw, 1, C]`)
 * with the same strides and padding (the border-aware tap count DREG needs).
 *
 * @returns Float32Array of length H'·W'·kh·kw (row-major `[P, T]`).
 */
export function inBoundsTapMask(g: Conv2dGeometry): Float32Array {
  const [kh, kw] = g.kernel;
  const T = kh * kw;
  const m = new Float32Array(g.h.out * g.w.out * T);
  for (let y = 0; y < g.h.out; y++) {
    for (let x = 0; x < g.w.out; x++) {
      const p = y * g.w.out + x;
      for (let i = 0; i < kh; i++) {
        const r = y * g.strides[0] + i - g.h.padBefore;
        if (r < 0 || r >= g.h.in) continue;
        for (let j = 0; j < kw; j++) {
          const c = x * g.strides[1] + j - g.w.padBefore;
          if (c >= 0 && c < g.w.in) m[p * T + i * kw + j] = 1;
        }
      }
    }
  }
  return m;
}

/** dx = full correlation of the dilated dy with the flipped, channel-transposed kernel. */
function inputGradient(dy: tf.Tensor4D, kernel: tf.Tensor4D, xShape: number[], g: Conv2dGeometry): tf.Tensor4D {
  const [B, , , cIn] = xShape;
  const [kh, kw, , cOut] = kernel.shape;
  const [sh, sw] = g.strides;
  const Ho = g.h.out;
  const Wo = g.w.out;
  let d: tf.Tensor4D = dy;
  if (sh > 1 || sw > 1) {
    // insert s−1 zeros after every row/column: [B, Ho, 1, Wo, 1, C] → pad → [B, Ho·sh, Wo·sw, C]
    const e = tf.reshape(dy, [B, Ho, 1, Wo, 1, cOut]);
    d = tf.reshape(tf.pad(e, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]), [B, Ho * sh, Wo * sw, cOut]);
  }
  // d now has s·H' rows: s(H'−1)+1 meaningful ones then s−1 zeros. The full correlation
  // has s(H'−1) + k rows, indexing the padded input; keep rows [pad_top, pad_top + H).
  const after = (ax: ConvAxisGeometry, k: number, s: number) => k - 1 + (ax.padBefore + ax.in - ((ax.out - 1) * s + k)) - (s - 1);
  const ah = after(g.h, kh, sh);
  const aw = after(g.w, kw, sw);
  if (ah < 0 || aw < 0) d = tf.slice(d, [0, 0, 0, 0], [B, d.shape[1] + Math.min(0, ah), d.shape[2] + Math.min(0, aw), cOut]);
  d = tf.pad(d, [[0, 0], [kh - 1 - g.h.padBefore, Math.max(0, ah)], [kw - 1 - g.w.padBefore, Math.max(0, aw)], [0, 0]]);
  const flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [kh, kw, C_out, C_in]
  const dx = tf.conv2d(d, flipped, 1, 'valid');
  if (dx.shape[3] !== cIn) throw new Error('conv2d backward: internal shape mismatch');
  return dx;
}

/** dK[i, j, c, o] = Σ_{b, y, x} x_pad[b, y·s + i, x·s + j, c] · dy[b, y, x, o], as a dilated conv. */
function filterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, kernelShape: number[], g: Conv2dGeometry): tf.Tensor4D {
  const [kh, kw, cIn, cOut] = kernelShape;
  const pads = g.h.padBefore + g.h.padAfter + g.w.padBefore + g.w.padAfter;
  const xp = pads > 0 ? tf.pad(x, [[0, 0], [g.h.padBefore, g.h.padAfter], [g.w.padBefore, g.w.padAfter], [0, 0]]) : x;
  const xt = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // [C_in, H_p, W_p, B]
  const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [H', W', B, C_out]
  let r = tf.conv2d(xt, f, 1, 'valid', 'NHWC', g.strides); // [C_in, ≥kh, ≥kw, C_out]
  if (r.shape[1] !== kh || r.shape[2] !== kw) r = tf.slice(r, [0, 0, 0, 0], [cIn, kh, kw, cOut]);
  return tf.transpose(r, [1, 2, 0, 3]) as tf.Tensor4D;
}

type ConvFn = (x: tf.Tensor4D, k: tf.Tensor4D, b?: tf.Tensor1D) => tf.Tensor4D;
const cache = new Map<string, ConvFn>();

function convFn(strides: [number, number], padding: Conv2dPadding, withBias: boolean): ConvFn {
  const key = `${strides[0]},${strides[1]},${padding},${withBias}`;
  let fn = cache.get(key);
  if (fn === undefined) {
    fn = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const [x, k, b] = args.slice(0, -1) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D?];
      save([x, k]);
      const z = tf.conv2d(x, k, strides, padding);
      return {
        value: b ? tf.add(z, b) : z,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ks] = saved as [tf.Tensor4D, tf.Tensor4D];
          const g = conv2dGeometry([xs.shape[1], xs.shape[2]], [ks.shape[0], ks.shape[1]], strides, padding);
          const grads = [inputGradient(dy as tf.Tensor4D, ks, xs.shape, g), filterGradient(xs, dy as tf.Tensor4D, ks.shape, g)];
          if (withBias) grads.push(tf.sum(dy, [0, 1, 2]));
          return grads;
        },
      };
    }) as unknown as ConvFn;
    cache.set(key, fn);
  }
  return fn;
}

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Stride, a number or `[s_h, s_w]`. Default 1. */
  strides?: number | [number, number];
  /** `'same'` (default) or `'valid'`, TensorFlow's conventions. */
  padding?: Conv2dPadding;
}

/**
 * 2-D convolution `z = conv(x, K) + b` (channels last, no dilation) whose backward
 * pass uses only forward convolutions, so it trains on every tfjs backend
 * (tfjs 4.22's wasm backend has no Conv2DBackpropFilter kernel) and, on wasm,
 * runs the input gradient through XNNPACK instead of the slow transposed-conv
 * kernel. Values equal `tf.conv2d`; gradients equal tf.conv2d's (tested).
 *
 * First-order only: the backward pass is not recorded on the tape (no double
 * backpropagation through this op).
 *
 * @param x input, `[B, H, W, C_in]`.
 * @param kernel K, `[kh, kw, C_in, C_out]`.
 * @param bias optional b, `[C_out]`.
 * @param opts strides (default 1) and padding (default `'same'`).
 * @returns z, `[B, H', W', C_out]` with H' = ⌈H/s⌉ (same) or ⌊(H − kh)/s⌋ + 1 (valid).
 * @throws ShapeError naming the tensor for wrong ranks or channel counts;
 *   ConfigError naming `strides`/`padding`.
 */
export function conv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, bias?: tf.Tensor1D, opts: Conv2dOptions = {}): tf.Tensor4D {
  const strides = normalizeStrides(opts.strides);
  const padding = normalizePadding(opts.padding);
  if (x.rank !== 4) throw new ShapeError(`x must be [B, H, W, C_in], got shape [${x.shape}]`, { tensor: 'x' });
  if (kernel.rank !== 4) throw new ShapeError(`kernel must be [kh, kw, C_in, C_out], got shape [${kernel.shape}]`, { tensor: 'kernel' });
  if (kernel.shape[2] !== x.shape[3]) {
    throw new ShapeError(`kernel [${kernel.shape}] expects ${kernel.shape[2]} input channels, x [${x.shape}] has ${x.shape[3]}`, { tensor: 'kernel' });
  }
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== kernel.shape[3])) {
    throw new ShapeError(`bias must be [${kernel.shape[3]}], got [${bias.shape}]`, { tensor: 'bias' });
  }
  conv2dGeometry([x.shape[1], x.shape[2]], [kernel.shape[0], kernel.shape[1]], strides, padding); // validates VALID sizes
  return bias === undefined ? convFn(strides, padding, false)(x, kernel) : convFn(strides, padding, true)(x, kernel, bias);
}
