import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, NonFiniteError, type NonFiniteKind } from './errors';

/**
 * The non-finite watchdog: catches the first NaN or ±Infinity in a training
 * step — in the loss, a gradient or a weight — at the step it appears, and
 * names where it is (layer, tensor, step, and the input row when the input
 * was non-finite) instead of letting one bad value turn every weight into NaN
 * without a word.
 *
 * Cost: one fused reduction per step, flag = (Σ_t sum(t))·0 over the loss and
 * every gradient (NaN when any element is NaN or ±Inf; see
 * {@link nonFiniteFlag}), read back as one number per step. Everything else
 * (the exact per-tensor test, finding which tensor and which row) runs only
 * after a flagged step.
 */

/** What the watchdog does with a non-finite step. */
export type NonFinitePolicy = 'throw' | 'skip-step' | 'warn';

/** The policies, for validation and help texts. */
export const NON_FINITE_POLICIES: readonly NonFinitePolicy[] = Object.freeze(['throw', 'skip-step', 'warn']);

/** Options of a {@link NonFiniteWatchdog}. */
export interface NonFiniteWatchdogOptions {
  /**
   * - `throw` (default): throw a {@link NonFiniteError}; the step's update is not applied.
   * - `skip-step`: report it (`onNonFinite`), do not apply the update, go on.
   * - `warn`: report it and apply the update anyway (the weights may become non-finite).
   */
  policy?: NonFinitePolicy;
  /** Called with the error for `skip-step` and `warn`. Default: one line on `console.warn`. */
  onNonFinite?: (error: NonFiniteError) => void;
  /** At most this many non-finite input rows are listed. Default 10. */
  maxRows?: number;
}

/** A variable with the names the watchdog reports for it. */
export interface WatchedVariable {
  variable: tf.Variable;
  /** Layer name, e.g. `hidden 1` or `dense_Dense1`. */
  layer: string;
  /** Tensor name within the layer, e.g. `kernel`, `bias`, `coeffs`. */
  tensor: string;
}

/** A named tensor inspected after a bad step (parts of the loss, layer activations). */
export interface NamedTensor {
  layer?: string;
  tensor: string;
  value: tf.Tensor;
}

/** Per-step context of {@link NonFiniteWatchdog.minimize}; all optional, used only after a bad step. */
export interface StepContext {
  /** The batch's input `[B, …]`: its non-finite rows are named. */
  x?: tf.Tensor;
  /** Row numbers of the batch in the caller's data (`rows[i]` = data row of batch row i). */
  rows?: ArrayLike<number>;
  /** Parts of the loss, in the order to report them (e.g. task loss, penalty). Not disposed. */
  lossParts?: NamedTensor[];
  /**
   * The forward pass's intermediate tensors in layer order (pre-activations,
   * outputs), computed on demand; the first non-finite one names the layer
   * where the values went wrong. Called inside a tfjs scope (its tensors are disposed).
   */
  activations?: () => NamedTensor[];
}

/**
 * One fused reduction: (Σ_t sum(t))·0, a scalar that is NaN when some element
 * of some tensor is NaN or ±Infinity, and 0 otherwise — except when finite
 * values sum beyond float32's range (|Σ| > 3.4e38), which also gives NaN: a
 * NaN flag means "look closer" ({@link NonFiniteWatchdog} then checks each
 * tensor exactly and goes on if all are finite). One sum per tensor, an addN
 * and a multiply: half the work of an exact elementwise test.
 */
export function nonFiniteFlag(tensors: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    const parts = tensors.filter((t) => t.size > 0).map((t) => tf.sum(t.dtype === 'float32' ? t : tf.cast(t, 'float32')));
    const total = parts.length === 0 ? tf.scalar(0) : parts.length === 1 ? parts[0] : tf.addN(parts);
    return tf.mul(total, 0) as tf.Scalar;
  });
}

/** True if every element of `t` is finite (exact; one read). */
export function allFinite(t: tf.Tensor): boolean {
  if (t.size === 0) return true;
  const f = tf.tidy(() => tf.all(tf.isFinite(t)));
  const v = f.dataSync()[0];
  f.dispose();
  return v === 1;
}

/** First index (and the list, capped) of rows of `x` `[N, …]` holding a NaN or ±Infinity. */
export function nonFiniteRows(x: tf.Tensor, max = 10): number[] {
  if (x.rank === 0 || x.size === 0) return [];
  const bad = tf.tidy(() => {
    const flat = tf.reshape(x, [x.shape[0], -1]);
    return tf.any(tf.logicalNot(tf.isFinite(flat)), 1);
  });
  const v = bad.dataSync();
  bad.dispose();
  const out: number[] = [];
  for (let i = 0; i < v.length && out.length < max; i++) if (v[i]) out.push(i);
  return out;
}

function describe(t: tf.Tensor): string {
  const v = t.dataSync();
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < v.length; i++) {
    if (Number.isNaN(v[i])) nan++;
    else if (!Number.isFinite(v[i])) inf++;
  }
  if (t.size === 1) return String(v[0]);
  return [nan ? `${nan} NaN` : '', inf ? `${inf} ±Infinity` : ''].filter(Boolean).join(', ') + ` of ${t.size} values`;
}

const HINTS: Record<NonFiniteKind, string> = {
  input: 'remove or impute the non-finite values in the data',
  weight: 'the previous update overflowed: lower the learning rate (or λ), or use a bounded guard (tanh, clip)',
  activation: "bound the layer's input: use the guard 'tanh', 'clip' or 'layernorm' (not 'none'), scale the inputs, or lower the learning rate",
  loss: 'lower λ or the learning rate, check the targets, or bound the activations (guard tanh, clip)',
  gradient: 'lower the learning rate or λ, or use a bounded guard (tanh, clip)',
};

/**
 * Watches training steps for NaN/±Infinity (see the module comment above).
 *
 * Hand-written steps: replace `optimizer.minimize(f, false, vars)` by
 * `watchdog.minimize(optimizer, f, vars, context)`. `model.fit`: see
 * {@link watchModelFit}. Counters: `steps` (watched), `skipped`, `warnings`.
 *
 * @example
 * const watchdog = new NonFiniteWatchdog({ policy: 'throw' });
 * for (const [xb, yb] of batches) {
 *   const loss = watchdog.minimize(opt, () => lossOf(model(xb), yb), [{ variable: W, layer: 'hidden', tensor: 'kernel' }], { x: xb });
 *   loss?.dispose();
 * }
 */
export class NonFiniteWatchdog {
  readonly policy: NonFinitePolicy;
  /** Steps watched so far (the next step's index). */
  steps = 0;
  /** Steps whose update was skipped (`skip-step`). */
  skipped = 0;
  /** Non-finite steps reported without throwing (`skip-step` and `warn`). */
  warnings = 0;
  private readonly onNonFinite: (error: NonFiniteError) => void;
  private readonly maxRows: number;

  /** @throws ConfigError (option `policy`) for an unknown policy. */
  constructor(opts: NonFiniteWatchdogOptions = {}) {
    const policy = opts.policy ?? 'throw';
    if (!NON_FINITE_POLICIES.includes(policy)) {
      throw new ConfigError(`must be one of ${NON_FINITE_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(policy)}`, { option: 'policy' });
    }
    this.policy = policy;
    this.onNonFinite = opts.onNonFinite ?? ((e) => console.warn(`chainz: ${e.message}`));
    this.maxRows = opts.maxRows ?? 10;
  }

  /**
   * One watched optimiser step: the gradients of `f` (`optimizer.computeGradients`),
   * the fused check of the loss and every gradient, one read; then, if all are
   * finite, `optimizer.applyGradients` — exactly what `optimizer.minimize(f, true,
   * vars)` computes. A non-finite step is handled by the policy.
   *
   * @param f the loss, a scalar.
   * @param vars the variables to train, with names ({@link WatchedVariable}) or bare.
   * @param context what to inspect after a bad step (input rows, loss parts, activations).
   * @returns the loss (the caller disposes it); for `skip-step` a non-finite loss
   *   is returned too, the update having been skipped.
   * @throws NonFiniteError (policy `throw`) naming kind, layer, tensor, step and rows.
   */
  minimize(optimizer: tf.Optimizer, f: () => tf.Scalar, vars: Array<WatchedVariable | tf.Variable>, context: StepContext = {}): tf.Scalar {
    const watched = vars.map(named);
    const varList = watched.map((w) => w.variable);
    const { value, grads } = optimizer.computeGradients(f, varList);
    const ok = this.check(value, grads, watched, context);
    if (ok || this.policy === 'warn') optimizer.applyGradients(varList.map((v) => ({ name: v.name, tensor: grads[v.name] })));
    tf.dispose(grads);
    return value;
  }

  /**
   * The check alone, for a caller that computes and applies the gradients
   * itself (e.g. reading asynchronously): `flag` is {@link nonFiniteFlag} of the
   * loss and gradients; pass its value here. Finds and reports the cause after
   * a bad step, per the policy.
   * @returns true if the step is finite; false for a non-finite step under
   *   `skip-step` or `warn` (then skip the update for `skip-step`).
   * @throws NonFiniteError under `throw`.
   */
  afterFlag(flagValue: number, loss: tf.Scalar, grads: tf.NamedTensorMap, vars: Array<WatchedVariable | tf.Variable>, context: StepContext = {}): boolean {
    const step = this.steps++;
    if (flagValue === 0) return true;
    const cause = this.diagnose(step, loss, grads, vars.map(named), context);
    // null: every tensor is finite, only the flag's sums overflowed
    return cause === null ? true : this.report(cause);
  }

  /**
   * Checks the variables themselves (e.g. after the last step of a run, whose
   * update no later step checks). One fused reduction and one read.
   * @throws NonFiniteError (kind `weight`) under `throw`.
   * @returns true if all are finite.
   */
  checkWeights(vars: Array<WatchedVariable | tf.Variable>): boolean {
    const watched = vars.map(named);
    const flag = nonFiniteFlag(watched.map((w) => w.variable));
    const v = flag.dataSync()[0];
    flag.dispose();
    if (v === 0) return true;
    const bad = watched.find((w) => !allFinite(w.variable));
    if (bad === undefined) return true; // finite values whose sum overflowed
    const step = this.steps - 1;
    return this.report(
      new NonFiniteError(`after step ${step}: weight ${bad.tensor} of layer '${bad.layer}' is not finite (${describe(bad.variable)}): the update of step ${step} produced it`, { kind: 'weight', layer: bad.layer, tensor: bad.tensor, step }, HINTS.weight),
    );
  }

  private check(value: tf.Scalar, grads: tf.NamedTensorMap, watched: WatchedVariable[], context: StepContext): boolean {
    const flag = nonFiniteFlag([value, ...watched.map((w) => grads[w.variable.name]).filter((g) => g !== undefined)]);
    const v = flag.dataSync()[0];
    flag.dispose();
    return this.afterFlag(v, value, grads, watched, context);
  }

  /** Handles a found problem by the policy: throws, or reports and returns false. */
  private report(error: NonFiniteError): boolean {
    if (this.policy === 'throw') throw error;
    this.warnings++;
    if (this.policy === 'skip-step') this.skipped++;
    this.onNonFinite(error);
    return false;
  }

  /** Which tensor is non-finite (see {@link findCause}); a backend that cannot read synchronously gets the step only. */
  private diagnose(step: number, loss: tf.Scalar, grads: tf.NamedTensorMap, watched: WatchedVariable[], context: StepContext): NonFiniteError | null {
    try {
      return this.findCause(step, loss, grads, watched, context);
    } catch (e) {
      if (e instanceof NonFiniteError) return e;
      // e.g. tfjs's WebGPU backend in Node, whose readSync needs an OffscreenCanvas
      return new NonFiniteError(
        `step ${step}: the loss or a gradient is not finite (the ${tf.getBackend()} backend cannot read tensors synchronously to say which)`,
        { kind: 'gradient', step },
        HINTS.gradient,
      );
    }
  }

  /** Which tensor is non-finite, in the order a value flows: input, weights, activations, loss, gradients. */
  private findCause(step: number, loss: tf.Scalar, grads: tf.NamedTensorMap, watched: WatchedVariable[], context: StepContext): NonFiniteError | null {
    const at = `step ${step}`;
    const mapRow = (i: number) => (context.rows ? context.rows[i] : i);
    if (context.x) {
      const bad = nonFiniteRows(context.x, this.maxRows);
      if (bad.length > 0) {
        const rows = bad.map(mapRow);
        const inRows = context.rows ? ` (data row${rows.length > 1 ? 's' : ''} ${rows.join(', ')})` : '';
        return new NonFiniteError(
          `${at}: the input holds NaN or ±Infinity in batch row${bad.length > 1 ? 's' : ''} ${bad.join(', ')}${inRows}`,
          { kind: 'input', tensor: 'x', step, row: rows[0], rows },
          HINTS.input,
        );
      }
    }
    for (const w of watched) {
      if (!allFinite(w.variable)) {
        return new NonFiniteError(
          `${at}: weight ${w.tensor} of layer '${w.layer}' is not finite (${describe(w.variable)}): the update of step ${step - 1} produced it`,
          { kind: 'weight', layer: w.layer, tensor: w.tensor, step },
          HINTS.weight,
        );
      }
    }
    if (context.activations) {
      let found: { layer?: string; tensor: string; rows: number[]; what: string } | null = null;
      tf.engine().startScope(); // the activations are disposed with the scope
      try {
        for (const a of context.activations()) {
          if (!allFinite(a.value)) {
            found = { layer: a.layer, tensor: a.tensor, rows: nonFiniteRows(a.value, this.maxRows), what: describe(a.value) };
            break;
          }
        }
      } finally {
        tf.engine().endScope();
      }
      if (found) {
        const rows = found.rows.map(mapRow);
        const where = found.rows.length ? `; first in batch row ${found.rows[0]}${context.rows ? ` (data row ${rows[0]})` : ''}` : '';
        return new NonFiniteError(
          `${at}: ${found.tensor} of layer '${found.layer}' is not finite (${found.what}${where})`,
          { kind: 'activation', layer: found.layer, tensor: found.tensor, step, row: rows[0], rows },
          HINTS.activation,
        );
      }
    }
    if (!allFinite(loss)) {
      const parts = (context.lossParts ?? []).map((p) => `${p.tensor} ${describe(p.value)}`);
      const culprit = (context.lossParts ?? []).find((p) => !allFinite(p.value));
      return new NonFiniteError(
        `${at}: the loss is not finite (${describe(loss)}${parts.length ? `; ${parts.join(', ')}` : ''})`,
        { kind: 'loss', tensor: culprit?.tensor ?? 'loss', layer: culprit?.layer, step },
        HINTS.loss,
      );
    }
    for (const w of watched) {
      const g = grads[w.variable.name];
      if (g !== undefined && !allFinite(g)) {
        return new NonFiniteError(
          `${at}: gradient ∂loss/∂${w.tensor} of layer '${w.layer}' is not finite (${describe(g)})`,
          { kind: 'gradient', layer: w.layer, tensor: `∂loss/∂${w.tensor}`, step },
          HINTS.gradient,
        );
      }
    }
    // a gradient of a variable not in the list (computeGradients without a list)
    for (const [name, g] of Object.entries(grads)) {
      if (g !== undefined && !allFinite(g)) {
        return new NonFiniteError(`${at}: gradient ∂loss/∂${name} is not finite (${describe(g)})`, { kind: 'gradient', tensor: `∂loss/∂${name}`, step }, HINTS.gradient);
      }
    }
    return null;
  }
}

/** `layer/tensor` names from a variable name such as `dense_Dense1/kernel` (tfjs-layers' naming). */
function named(v: WatchedVariable | tf.Variable): WatchedVariable {
  if (!(v instanceof tf.Variable) && (v as WatchedVariable).variable) return v as WatchedVariable;
  const variable = v as tf.Variable;
  const name = variable.name;
  const slash = name.lastIndexOf('/');
  // tfjs-layers names a weight '<layer>/<weight>' and may suffix a counter ('_1') to keep it unique
  return slash > 0 ? { variable, layer: name.slice(0, slash), tensor: name.slice(slash + 1).replace(/_\d+$/, '') } : { variable, layer: name, tensor: 'value' };
}

/** The parts of a tfjs-layers `LayersModel` the fit watchdog uses (structural: no tfjs-layers import). */
export interface FitModelLike {
  optimizer: tf.Optimizer;
  trainableWeights: Array<{ name: string; read(): tf.Tensor }>;
  /** A `Sequential` model's layers: after a bad step, their outputs on `x` name the layer where values overflow. */
  layers?: Array<{ name: string; apply(x: tf.Tensor, kwargs?: Record<string, unknown>): tf.Tensor | tf.Tensor[] | unknown }>;
  getClassName?(): string;
}

/**
 * For a Sequential model: the first layer whose output on `x` is not finite,
 * and its rows (inference mode); if every output is finite, the largest |value|
 * of the model's output; null if the model cannot be walked layer by layer.
 */
function walkLayers(model: FitModelLike, x: tf.Tensor, maxRows: number): { bad: { layer: string; rows: number[]; what: string } } | { maxAbsOutput: number } | null {
  if (model.getClassName?.() !== 'Sequential' || !model.layers) return null;
  tf.engine().startScope();
  try {
    let h = x;
    for (const layer of model.layers) {
      const out = layer.apply(h, { training: false });
      if (!(out instanceof tf.Tensor)) return null;
      h = out;
      if (!allFinite(h)) return { bad: { layer: layer.name, rows: nonFiniteRows(h, maxRows), what: describe(h) } };
    }
    return { maxAbsOutput: tf.max(tf.abs(h)).dataSync()[0] };
  } catch {
    return null; // a model this simple walk cannot run: keep the first diagnosis
  } finally {
    tf.engine().endScope();
  }
}

/** Options of {@link watchModelFit}: the watchdog's, plus the training inputs. */
export interface WatchModelFitOptions extends NonFiniteWatchdogOptions {
  /**
   * The `x` passed to `fit` (`[N, …]`). Checked once before the first step
   * (one reduction), and searched for the non-finite rows after a bad step.
   * `fit` shuffles batches, so the row cannot be tied to a batch otherwise.
   */
  x?: tf.Tensor;
}

/** tfjs-layers callback hooks returned by {@link watchModelFit} (pass in `fit`'s `callbacks`). */
export interface WatchFitCallback {
  onTrainBegin: () => Promise<void>;
  onTrainEnd: () => Promise<void>;
  /** The watchdog (counters `steps`, `skipped`, `warnings`). */
  readonly watchdog: NonFiniteWatchdog;
}

/**
 * The non-finite watchdog for `model.fit` (tfjs-layers): a callback object
 * that, for the duration of `fit`, routes the model optimiser's steps through
 * {@link NonFiniteWatchdog.minimize} — the same arithmetic as tfjs's own
 * `minimize`, plus one fused check and one read per batch — and checks the
 * weights after the last batch. Works with `attachDreg` (the DREG penalty is
 * part of fit's loss, so a non-finite penalty is caught too).
 *
 * Under `skip-step` a skipped batch's loss (non-finite) still shows in fit's
 * history; the weights and optimiser state are those before the batch.
 *
 * @example
 * const guard = watchModelFit(model, { x: xTrain });  // policy 'throw'
 * await model.fit(xTrain, yTrain, { epochs: 10, callbacks: [guard] });
 *
 * @param model a compiled LayersModel.
 * @returns callbacks for `fit` (`onTrainBegin`, `onTrainEnd`).
 * @throws (from `fit`) NonFiniteError naming step, layer and tensor (`layer/kernel`
 *   as tfjs-layers names weights), and the input rows when `x` is given and non-finite.
 */
export function watchModelFit(model: FitModelLike, opts: WatchModelFitOptions = {}): WatchFitCallback {
  const watchdog = new NonFiniteWatchdog(opts);
  let optimizer: tf.Optimizer | undefined;
  let own: PropertyDescriptor | undefined; // the optimizer's own `minimize` property, if it had one
  const restore = () => {
    if (optimizer) {
      if (own) Object.defineProperty(optimizer, 'minimize', own);
      else delete (optimizer as { minimize?: unknown }).minimize;
    }
    optimizer = undefined;
    own = undefined;
  };
  return {
    watchdog,
    async onTrainBegin() {
      optimizer = model.optimizer;
      if (!optimizer) throw new ConfigError('the model has no optimizer: compile it before fit', { option: 'model' });
      if (opts.x && !allFinite(opts.x)) {
        const rows = nonFiniteRows(opts.x, opts.maxRows ?? 10);
        const e = new NonFiniteError(`before step 0: the input holds NaN or ±Infinity in row${rows.length > 1 ? 's' : ''} ${rows.join(', ')}`, { kind: 'input', tensor: 'x', step: 0, row: rows[0], rows }, HINTS.input);
        if (watchdog.policy === 'throw') throw e;
        watchdog.warnings++;
        (opts.onNonFinite ?? ((err: NonFiniteError) => console.warn(`chainz: ${err.message}`)))(e);
      }
      own = Object.getOwnPropertyDescriptor(optimizer, 'minimize');
      const target = optimizer;
      target.minimize = ((f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]) => {
        const vars = varList ?? model.trainableWeights.map((w) => w.read() as tf.Variable);
        try {
          const value = watchdog.minimize(target, f, vars);
          if (returnCost) return value;
          value.dispose();
          return null;
        } catch (e) {
          restore();
          if (e instanceof NonFiniteError && opts.x && (e.kind === 'loss' || e.kind === 'gradient')) {
            // fit does not show the batch; the layer outputs on the whole x (same weights: the update was not applied) do
            const walk = walkLayers(model, opts.x, opts.maxRows ?? 10);
            if (walk && 'maxAbsOutput' in walk && e.kind === 'loss') {
              throw new NonFiniteError(
                `${e.message}; every layer's output on the training inputs is finite (the model's output up to ${walk.maxAbsOutput.toExponential(2)} in magnitude), so the loss overflows: the task loss of outputs that large, or a loss the layers add (a regularizer, the DREG penalty)`,
                { kind: 'loss', tensor: 'loss', step: e.step },
                HINTS.loss,
              );
            }
            if (walk && 'bad' in walk) {
              const act = walk.bad;
              throw new NonFiniteError(
                `${e.message}; on the training inputs the output of layer '${act.layer}' is the first that is not finite (${act.what}${act.rows.length ? `; rows ${act.rows.join(', ')}` : ''})`,
                { kind: 'activation', layer: act.layer, tensor: 'output', step: e.step, row: act.rows[0], rows: act.rows },
                HINTS.activation,
              );
            }
          }
          throw e;
        }
      }) as tf.Optimizer['minimize'];
    },
    async onTrainEnd() {
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      restore();
      watchdog.checkWeights(vars);
    },
  };
}
