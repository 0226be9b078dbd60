import { ConfigError } from '@chainz/core';

/**
 * Schedule of the DREG coefficient λ(t) over training steps t = 0, 1, 2, …
 * (docs/dreg.md). All shapes are functions of r ∈ [0, 1], the fraction of the
 * phase elapsed: linear r, cosine (1 − cos πr)/2, exponential (geometric
 * interpolation, anneal only).
 *
 * - `constant`: λ(t) = value.
 * - `warmup`: λ rises from 0 to `value` over `warmupSteps` steps (linear or
 *   cosine), then stays at `value`.
 * - `anneal`: optional linear warm-up from 0 to `from` over `warmupSteps`, then λ
 *   moves from `from` to `to` over `steps` steps (linear, cosine or
 *   exponential), then stays at `to`. `to > from` anneals the penalty in,
 *   `to < from` anneals it out.
 */
export type LambdaScheduleSpec =
  | { type: 'constant'; value: number }
  | { type: 'warmup'; value: number; warmupSteps: number; shape?: 'linear' | 'cosine' }
  | { type: 'anneal'; from: number; to: number; steps: number; shape?: 'linear' | 'cosine' | 'exponential'; warmupSteps?: number };

/** λ as a function of the training step; `spec` records how it was made (for reports). */
export interface LambdaSchedule {
  (step: number): number;
  readonly spec: LambdaScheduleSpec;
}

function nonNegative(option: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`must be a finite number ≥ 0, got ${JSON.stringify(v)}`, { option });
  return v;
}

function positiveInt(option: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new ConfigError(`must be a positive integer, got ${JSON.stringify(v)}`, { option });
  return v as number;
}

function ramp(shape: 'linear' | 'cosine', r: number): number {
  return shape === 'linear' ? r : (1 - Math.cos(Math.PI * r)) / 2;
}

/**
 * Builds a λ(t) schedule.
 *
 * @param spec a number (constant λ) or a {@link LambdaScheduleSpec}.
 * @returns the schedule; steps below 0 count as 0, non-integer steps are allowed.
 * @throws ConfigError naming the option (`lambda`, `lambda.value`,
 *   `lambda.warmupSteps`, `lambda.from`, `lambda.to`, `lambda.steps`,
 *   `lambda.shape`) for invalid values; `exponential` needs from, to > 0.
 */
export function lambdaSchedule(spec: number | LambdaScheduleSpec): LambdaSchedule {
  let s: LambdaScheduleSpec;
  if (typeof spec === 'number') s = { type: 'constant', value: spec };
  else if (spec !== null && typeof spec === 'object') s = spec;
  else throw new ConfigError(`must be a number or a schedule spec, got ${JSON.stringify(spec)}`, { option: 'lambda' });
  let fn: (t: number) => number;
  switch (s.type) {
    case 'constant': {
      const value = nonNegative('lambda.value', s.value);
      fn = () => value;
      break;
    }
    case 'warmup': {
      const value = nonNegative('lambda.value', s.value);
      const n = positiveInt('lambda.warmupSteps', s.warmupSteps);
      const shape = s.shape ?? 'linear';
      if (shape !== 'linear' && shape !== 'cosine') throw new ConfigError(`must be 'linear' or 'cosine', got ${JSON.stringify(shape)}`, { option: 'lambda.shape' });
      fn = (t) => (t >= n ? value : value * ramp(shape, t / n));
      break;
    }
    case 'anneal': {
      const from = nonNegative('lambda.from', s.from);
      const to = nonNegative('lambda.to', s.to);
      const n = positiveInt('lambda.steps', s.steps);
      const w = s.warmupSteps === undefined || s.warmupSteps === 0 ? 0 : positiveInt('lambda.warmupSteps', s.warmupSteps);
      const shape = s.shape ?? 'linear';
      if (shape !== 'linear' && shape !== 'cosine' && shape !== 'exponential') {
        throw new ConfigError(`must be 'linear', 'cosine' or 'exponential', got ${JSON.stringify(shape)}`, { option: 'lambda.shape' });
      }
      if (shape === 'exponential' && (from <= 0 || to <= 0)) throw new ConfigError('exponential annealing needs from > 0 and to > 0', { option: 'lambda.shape' });
      fn = (t) => {
        if (t < w) return from * (t / w);
        const r = Math.min(1, (t - w) / n);
        if (shape === 'exponential') return from * (to / from) ** r;
        return from + (to - from) * ramp(shape, r);
      };
      break;
    }
    default:
      throw new ConfigError(`unknown schedule type ${JSON.stringify((s as { type?: unknown }).type)} (valid: constant, warmup, anneal)`, { option: 'lambda' });
  }
  const schedule = ((step: number) => fn(Math.max(0, Number.isFinite(step) ? step : 0))) as LambdaSchedule;
  Object.defineProperty(schedule, 'spec', { value: Object.freeze({ ...s }), enumerable: true });
  return schedule;
}
