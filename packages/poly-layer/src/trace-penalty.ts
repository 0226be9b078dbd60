import * as tf from '@tensorflow/tfjs-core';
import type { DenseLayerTrace, LayerTrace } from './trace';

/**
 * A penalty computed from a layer's forward trace while training (e.g. DREG's
 * per-layer term); must return a scalar built from tensors of the trace so that its
 * gradient reaches the layer's weights.
 * @param trace the layer's trace of this forward pass (`DenseLayerTrace` for
 *   PolyDense, `Conv2dLayerTrace` for PolyConv2D).
 * @param step number of training steps this layer has taken a penalty for so far (0-based).
 */
export type TracePenalty<T extends LayerTrace = DenseLayerTrace> = (trace: T, step: number) => tf.Scalar;

/** What a layer's forward pass must compute for its attached penalty. */
export interface TracePenaltyNeeds {
  /** σ'' in the trace (DREG curvature). */
  secondDerivative?: boolean;
  /** The fused per-sample ‖J‖_F² in a dense trace (DREG frobenius); conv layers ignore it. */
  jacobianNorm?: boolean;
}

/**
 * The trace-penalty mechanism shared by the polynomial layers (PolyDense,
 * PolyConv2D): `call()` in a training pass records the penalty of its trace;
 * the layer's `addLoss` closure — which tfjs-layers' `fit` evaluates after the
 * forward pass, on the same gradient tape — takes the recorded penalties.
 * @internal
 */
export class TracePenaltyRecorder<T extends LayerTrace> {
  private penalty: TracePenalty<T> | null = null;
  private needs: Required<TracePenaltyNeeds> = { secondDerivative: false, jacobianNorm: false };
  private recorded: tf.Scalar[] = [];
  private steps = 0;

  /** Attach (or with `null` detach) a penalty; resets the step count. */
  set(penalty: TracePenalty<T> | null, needs: TracePenaltyNeeds = {}): void {
    this.penalty = penalty;
    this.needs = { secondDerivative: needs.secondDerivative === true, jacobianNorm: needs.jacobianNorm === true };
    this.recorded = [];
    this.steps = 0;
  }

  get(): TracePenalty<T> | null {
    return this.penalty;
  }

  /** True when a training pass must build a trace (a penalty is attached). */
  active(training: boolean): boolean {
    return training && this.penalty !== null;
  }

  /** What the forward pass must add to the trace. */
  get requirements(): Readonly<Required<TracePenaltyNeeds>> {
    return this.needs;
  }

  /** Record the penalty of one training forward pass. */
  record(trace: T): void {
    if (this.penalty) this.recorded.push(this.penalty(trace, this.steps));
  }

  /** The recorded penalties' sum (0 when none), for the layer's `addLoss` closure; counts a step. */
  take(): tf.Scalar {
    const live = this.recorded.filter((t) => !t.isDisposed);
    this.recorded = [];
    if (live.length === 0) return tf.scalar(0);
    this.steps++;
    return live.length === 1 ? live[0] : (tf.addN(live) as tf.Scalar);
  }
}
