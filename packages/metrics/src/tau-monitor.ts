import type * as tf from '@tensorflow/tfjs-core';
import { ConfigError, NumericError, Rng } from '@chainz/core';
import { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import { mean as d3mean, quantile as d3quantile, deviation } from 'd3-array';
import { LABEL_FREE_TARGETS, labelFreeSignals, type LabelFreeTarget } from './label-free';

/** Options of {@link TauMonitor}. Every default is the value used when the option is left out. */
export interface TauMonitorOptions {
  /** Quantile level of τ = quantile_q(g) / mean(g); default 0.99 (the p99 of the gradient tail ratio). */
  q?: number;
  /** Samples per monitored window (tumbling windows); default 512. */
  windowSize?: number;
  /** Samples forming the reference (the first ones fed, assumed in distribution); default 2048. */
  referenceSize?: number;
  /** Control limit in bootstrap standard deviations of a window's τ; default 3. */
  z?: number;
  /** Smallest relative change of τ ever flagged, a floor under the control limit; default 0.1 (10 %). */
  minRelativeChange?: number;
  /** DDSketch relative accuracy α of every quantile (values within a factor 1 ± α); default 0.005. */
  relativeAccuracy?: number;
  /** Bins per sketch before the lowest ones are collapsed (bounds memory; high quantiles stay within α); default 2048. */
  binLimit?: number;
  /** Reference norms kept (a seeded reservoir sample) for the bootstrap; default 4096. */
  reservoirSize?: number;
  /** Bootstrap resamples used to calibrate the control limit; default 500. */
  bootstrap?: number;
  /** Seed of the reservoir and the bootstrap (any integer); default 0. */
  seed?: number;
  /** Closed windows kept in {@link TauMonitor.history} (oldest dropped first); default 1000. */
  maxHistory?: number;
  /** What {@link TauMonitor.observe} differentiates ({@link LabelFreeTarget}); default `'predicted-ce'`. */
  target?: LabelFreeTarget;
  /** Rows per forward/backward pass in {@link TauMonitor.observe}; default 256. */
  batchSize?: number;
}

/** The reference a {@link TauMonitor} compares windows against. */
export interface TauReference {
  /** Samples in the reference. */
  samples: number;
  /** τ_ref = quantile_q / mean of the reference norms. */
  tau: number;
  /** The q-quantile of the reference norms. */
  quantile: number;
  /** Mean reference norm. */
  meanNorm: number;
  /**
   * Centre of the control chart: the bootstrap mean of τ over windows of
   * `windowSize` reference samples. It differs from `tau` because the sample
   * τ of a small window is biased (a heavy tail is under-represented in few
   * samples); windows are compared with this, not with `tau`.
   */
  windowTau: number;
  /** Bootstrap standard deviation of a window's τ, relative to `windowTau`. */
  relativeSd: number;
  /** The control limit on |τ_w / windowTau − 1|: max(minRelativeChange, z · relativeSd). */
  limit: number;
  /** Bootstrap mean of a window's mean norm (equals `meanNorm` up to resampling noise). */
  windowMeanNorm: number;
  /** Bootstrap standard deviation of a window's mean norm, relative to `windowMeanNorm`. */
  meanRelativeSd: number;
  /** The control limit on |mean_w / windowMeanNorm − 1|: max(minRelativeChange, z · meanRelativeSd). */
  meanLimit: number;
  /** Mean max-softmax confidence of the reference (when confidences were fed). */
  meanConfidence?: number;
}

/** One closed window of a {@link TauMonitor}. */
export interface TauWindowReport {
  /** 0-based number of the window after the reference. */
  index: number;
  /** Samples in the window (= windowSize). */
  samples: number;
  /** τ_w of the window; NaN when all its norms are 0. */
  tau: number;
  /** The q-quantile of the window's norms. */
  quantile: number;
  /** Mean norm of the window. */
  meanNorm: number;
  /** τ_w / windowTau − 1 (see {@link TauReference.windowTau}). */
  relativeChange: number;
  /** The control limit the change was compared with (the reference's). */
  limit: number;
  /** |relativeChange| > limit (a window with undefined τ is flagged too). The monitor's flag. */
  shift: boolean;
  /** meanNorm / windowMeanNorm − 1: the level of the gradients, which τ (a ratio) ignores. */
  meanRelativeChange: number;
  /** |meanRelativeChange| > meanLimit. Reported beside the τ flag; it does not set {@link TauMonitor.shiftDetected}. */
  meanShift: boolean;
  /** Mean max-softmax confidence of the window (when confidences were fed): the baseline signal. */
  meanConfidence?: number;
}

/** Statistics of all samples seen so far in a phase, from the sketches. */
export interface TauRunningStats {
  samples: number;
  tau: number;
  quantile: number;
  meanNorm: number;
}

type Sketch = LogCollapsingLowestDenseDDSketch;

/**
 * A τ monitor for a deployed model: feed per-sample label-free gradient
 * norms of unlabelled inputs (or the inputs themselves with
 * {@link TauMonitor.observe}) batch by batch; the monitor keeps a running
 * τ = quantile_q(g) / mean(g) in bounded memory and flags windows whose τ
 * departs from a reference.
 *
 * Method (see `docs/metrics.md`, "τ monitor"):
 * 1. The first `referenceSize` samples are the reference (assumed to come
 *    from the training distribution). τ_ref is computed from a DDSketch
 *    (Masson, Rim & Lee 2019; `@datadog/sketches-js`) and the exact mean.
 * 2. Control chart: a seeded bootstrap draws `bootstrap` windows of
 *    `windowSize` norms from (a reservoir sample of) the reference; the
 *    mean τ̄_W of their τ is the centre (a small window's τ is biased, so
 *    windows are compared with windows of their own size) and their
 *    standard deviation s, relative to τ̄_W, the noise; the limit is
 *    L = max(minRelativeChange, z · s) — a Shewhart chart on τ whose width is
 *    the sampling noise of τ at the window size.
 * 3. Later samples fill tumbling windows of `windowSize`; a closed window w
 *    reports τ_w, r_w = τ_w / τ̄_W − 1 and `shift = |r_w| > L`.
 * The same chart on the window's mean norm (`meanShift`) and the mean
 * max-softmax confidence, when fed, are reported beside τ: τ is a ratio and
 * does not see a change of the gradients' level, which these do. Only the τ
 * chart sets {@link TauMonitor.shiftDetected}.
 *
 * Memory is bounded whatever the stream length: three sketches (reference,
 * open window, everything after the reference) of at most `binLimit` bins,
 * a reservoir of `reservoirSize` numbers and `maxHistory` window reports.
 * Quantiles from a sketch are within a factor 1 ± `relativeAccuracy` of a
 * sample quantile.
 */
export class TauMonitor {
  readonly q: number;
  readonly windowSize: number;
  readonly referenceSize: number;
  readonly z: number;
  readonly minRelativeChange: number;
  readonly target: LabelFreeTarget;
  private readonly opts: Required<Omit<TauMonitorOptions, 'target'>>;
  private refSketch!: Sketch;
  private refConfSum = 0;
  private refConfCount = 0;
  private reservoir!: Float64Array;
  private reservoirFill = 0;
  private rng!: Rng;
  private ref: TauReference | undefined;
  private win!: Sketch;
  private winConfSum = 0;
  private winConfCount = 0;
  private after!: Sketch;
  private windows = 0;
  private readonly hist: TauWindowReport[] = [];
  private flagged = false;

  /** @throws ConfigError naming the option for an invalid value. */
  constructor(options: TauMonitorOptions = {}) {
    const o = {
      q: options.q ?? 0.99,
      windowSize: options.windowSize ?? 512,
      referenceSize: options.referenceSize ?? 2048,
      z: options.z ?? 3,
      minRelativeChange: options.minRelativeChange ?? 0.1,
      relativeAccuracy: options.relativeAccuracy ?? 0.005,
      binLimit: options.binLimit ?? 2048,
      reservoirSize: options.reservoirSize ?? 4096,
      bootstrap: options.bootstrap ?? 500,
      seed: options.seed ?? 0,
      maxHistory: options.maxHistory ?? 1000,
      batchSize: options.batchSize ?? 256,
    };
    if (!(o.q > 0 && o.q <= 1)) throw new ConfigError(`q must be in (0, 1], got ${o.q}`, { option: 'q' });
    for (const k of ['windowSize', 'referenceSize', 'binLimit', 'reservoirSize', 'bootstrap', 'maxHistory', 'batchSize'] as const) {
      if (!(Number.isInteger(o[k]) && o[k] >= 1)) throw new ConfigError(`${k} must be a positive integer, got ${o[k]}`, { option: k });
    }
    if (o.bootstrap < 2) throw new ConfigError(`bootstrap must be at least 2, got ${o.bootstrap}`, { option: 'bootstrap' });
    if (!(Number.isFinite(o.z) && o.z >= 0)) throw new ConfigError(`z must be a non-negative number, got ${o.z}`, { option: 'z' });
    if (!(Number.isFinite(o.minRelativeChange) && o.minRelativeChange >= 0)) {
      throw new ConfigError(`minRelativeChange must be a non-negative number, got ${o.minRelativeChange}`, { option: 'minRelativeChange' });
    }
    if (!(o.relativeAccuracy > 0 && o.relativeAccuracy < 1)) throw new ConfigError(`relativeAccuracy must be in (0, 1), got ${o.relativeAccuracy}`, { option: 'relativeAccuracy' });
    if (!Number.isInteger(o.seed)) throw new ConfigError(`seed must be an integer, got ${o.seed}`, { option: 'seed' });
    const target = options.target ?? 'predicted-ce';
    if (!LABEL_FREE_TARGETS.includes(target)) throw new ConfigError(`target must be one of ${LABEL_FREE_TARGETS.join(', ')}, got '${String(target)}'`, { option: 'target' });
    this.opts = o;
    this.q = o.q;
    this.windowSize = o.windowSize;
    this.referenceSize = o.referenceSize;
    this.z = o.z;
    this.minRelativeChange = o.minRelativeChange;
    this.target = target;
    this.reset();
  }

  /** Forget everything, including the reference: the next samples form a new reference. */
  reset(): void {
    this.refSketch = this.sketch();
    this.refConfSum = 0;
    this.refConfCount = 0;
    this.reservoir = new Float64Array(Math.min(this.opts.reservoirSize, this.referenceSize));
    this.reservoirFill = 0;
    this.rng = new Rng(this.opts.seed);
    this.ref = undefined;
    this.win = this.sketch();
    this.winConfSum = 0;
    this.winConfCount = 0;
    this.after = this.sketch();
    this.windows = 0;
    this.hist.length = 0;
    this.flagged = false;
  }

  /** `reference` until `referenceSize` samples were fed, then `monitoring`. */
  get phase(): 'reference' | 'monitoring' {
    return this.ref ? 'monitoring' : 'reference';
  }

  /** The reference (undefined while it is being collected). */
  get reference(): TauReference | undefined {
    return this.ref;
  }

  /** The closed windows, oldest first (at most `maxHistory`). */
  get history(): readonly TauWindowReport[] {
    return this.hist;
  }

  /** True once any window was flagged (until {@link reset}). */
  get shiftDetected(): boolean {
    return this.flagged;
  }

  /** The running τ of every sample after the reference (undefined before the first one). */
  running(): TauRunningStats | undefined {
    return this.after.count > 0 ? stats(this.after, this.q) : undefined;
  }

  /** The open (not yet full) window: running τ of its samples so far, not flagged (undefined when empty). */
  current(): TauRunningStats | undefined {
    return this.ref && this.win.count > 0 ? stats(this.win, this.q) : undefined;
  }

  /**
   * Feed the per-sample gradient norms of a batch (e.g. from
   * {@link labelFreeGradientNorms}), optionally with their max-softmax
   * confidences.
   * @param norms non-negative finite numbers, any length (0 is allowed).
   * @param confidence same length, each in [0, 1] (optional; feed it for every batch or for none).
   * @returns the windows closed by this batch, in order (empty if none).
   * @throws ConfigError (tensor `norms`) for a negative norm or a length mismatch (option `confidence`) or a confidence outside [0, 1].
   * @throws NumericError (tensor `norms`) for NaN or ±Infinity.
   * @throws NumericError (tensor `norms`) when every norm of the reference is 0 (τ_ref undefined);
   *   the monitor is then reset, and the next samples form a new reference.
   */
  update(norms: ArrayLike<number>, confidence?: ArrayLike<number>): TauWindowReport[] {
    validate(norms, confidence);
    const closed: TauWindowReport[] = [];
    for (let i = 0; i < norms.length; i++) {
      const g = norms[i];
      const c = confidence?.[i];
      if (!this.ref) {
        this.refSketch.accept(g);
        if (c !== undefined) {
          this.refConfSum += c;
          this.refConfCount++;
        }
        this.addToReservoir(g);
        if (this.refSketch.count === this.referenceSize) {
          try {
            this.ref = this.finishReference();
          } catch (e) {
            this.reset(); // discard the unusable reference: the next samples start a new one
            throw e;
          }
        }
        continue;
      }
      this.win.accept(g);
      this.after.accept(g);
      if (c !== undefined) {
        this.winConfSum += c;
        this.winConfCount++;
      }
      if (this.win.count === this.windowSize) closed.push(this.closeWindow());
    }
    return closed;
  }

  /**
   * Compute the label-free signals of a batch of inputs with the monitor's
   * `target` ({@link labelFreeSignals}) and {@link update} with them.
   * @param logits maps a batch `[B, …]` to logits `[B, K]`, K ≥ 2.
   * @param x unlabelled inputs `[N, …]` float32. Not disposed; no tensors are left behind.
   * @returns the windows closed by this batch.
   */
  observe<T extends tf.Tensor2D | tf.Tensor3D | tf.Tensor4D>(logits: (x: T) => tf.Tensor2D, x: T): TauWindowReport[] {
    const s = labelFreeSignals(logits, x, { target: this.target, batchSize: this.opts.batchSize });
    return this.update(s.gradNorms, s.confidence);
  }

  private sketch(): Sketch {
    return new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: this.opts.relativeAccuracy, binLimit: this.opts.binLimit });
  }

  /** Vitter's algorithm R: a uniform sample of the reference norms, seeded. */
  private addToReservoir(g: number): void {
    const seen = this.refSketch.count; // including g
    if (this.reservoirFill < this.reservoir.length) this.reservoir[this.reservoirFill++] = g;
    else {
      const j = this.rng.int(seen);
      if (j < this.reservoir.length) this.reservoir[j] = g;
    }
  }

  private finishReference(): TauReference {
    const r = stats(this.refSketch, this.q);
    if (!Number.isFinite(r.tau)) {
      throw new NumericError(`all ${r.samples} reference gradient norms are 0: τ_ref is undefined, nothing to monitor against`, { tensor: 'norms' });
    }
    // Bootstrap the sampling noise of τ at the window size.
    const pool = this.reservoir.subarray(0, this.reservoirFill);
    const w = this.windowSize;
    const draw = new Float64Array(w);
    const taus: number[] = [];
    const means: number[] = [];
    for (let b = 0; b < this.opts.bootstrap; b++) {
      for (let i = 0; i < w; i++) draw[i] = pool[this.rng.int(pool.length)];
      const m = d3mean(draw) as number;
      means.push(m);
      if (m > 0) taus.push((d3quantile(draw, this.q) as number) / m);
    }
    // τ is undefined in an all-zero resample; with < 2 defined ones there is no spread to measure.
    const windowTau = taus.length > 0 ? (d3mean(taus) as number) : r.tau;
    const relativeSd = taus.length >= 2 ? (deviation(taus) as number) / windowTau : 0;
    const windowMeanNorm = d3mean(means) as number;
    const meanRelativeSd = (deviation(means) as number) / windowMeanNorm;
    const ref: TauReference = {
      samples: r.samples,
      tau: r.tau,
      quantile: r.quantile,
      meanNorm: r.meanNorm,
      windowTau,
      relativeSd,
      limit: Math.max(this.minRelativeChange, this.z * relativeSd),
      windowMeanNorm,
      meanRelativeSd,
      meanLimit: Math.max(this.minRelativeChange, this.z * meanRelativeSd),
    };
    if (this.refConfCount > 0) ref.meanConfidence = this.refConfSum / this.refConfCount;
    this.reservoir = new Float64Array(0); // no longer needed
    return ref;
  }

  private closeWindow(): TauWindowReport {
    const ref = this.ref!;
    const s = stats(this.win, this.q);
    const relativeChange = s.tau / ref.windowTau - 1;
    const meanRelativeChange = s.meanNorm / ref.windowMeanNorm - 1;
    const report: TauWindowReport = {
      index: this.windows++,
      samples: s.samples,
      tau: s.tau,
      quantile: s.quantile,
      meanNorm: s.meanNorm,
      relativeChange,
      limit: ref.limit,
      shift: !(Math.abs(relativeChange) <= ref.limit),
      meanRelativeChange,
      meanShift: !(Math.abs(meanRelativeChange) <= ref.meanLimit),
    };
    if (this.winConfCount > 0) report.meanConfidence = this.winConfSum / this.winConfCount;
    if (report.shift) this.flagged = true;
    this.hist.push(report);
    if (this.hist.length > this.opts.maxHistory) this.hist.shift();
    this.win = this.sketch();
    this.winConfSum = 0;
    this.winConfCount = 0;
    return report;
  }
}

function stats(s: Sketch, q: number): TauRunningStats {
  const meanNorm = s.sum / s.count;
  const quantile = s.getValueAtQuantile(q);
  return { samples: s.count, tau: meanNorm > 0 ? quantile / meanNorm : Number.NaN, quantile, meanNorm };
}

function validate(norms: ArrayLike<number>, confidence?: ArrayLike<number>): void {
  if (confidence !== undefined && confidence.length !== norms.length) {
    throw new ConfigError(`confidence has ${confidence.length} values for ${norms.length} norms`, { option: 'confidence' });
  }
  for (let i = 0; i < norms.length; i++) {
    const g = norms[i];
    if (!Number.isFinite(g)) throw new NumericError(`norm ${i} is ${g}; gradient norms must be finite`, { tensor: 'norms' });
    if (g < 0) throw new ConfigError(`norm ${i} is ${g}; gradient norms must be non-negative`, { tensor: 'norms' });
    if (confidence !== undefined) {
      const c = confidence[i];
      if (!(c >= 0 && c <= 1)) throw new ConfigError(`confidence ${i} is ${c}; expected a value in [0, 1]`, { option: 'confidence' });
    }
  }
}
