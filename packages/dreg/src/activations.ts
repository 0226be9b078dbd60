import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@chainz/core';

/**
 * Standard (fixed) elementwise activations with analytic first and second
 * derivatives, for DREG on ordinary networks and for double backpropagation.
 *
 * | name | σ(z) | σ′(z) | σ″(z) |
 * |---|---|---|---|
 * | `relu` | max(0, z) | 1 if z > 0, else 0 (σ′(0) = 0, as tfjs's Relu gradient) | 0 |
 * | `gelu` | z·Φ(z), Φ(z) = (1 + erf(z/√2))/2 | Φ(z) + z·φ(z) | φ(z)·(2 − z²) |
 * | `tanh` | tanh z | sech² z | −2·tanh z·sech² z |
 * | `sigmoid` | s(z) = 1/(1 + e^−z) | s′(z) = e/(1 + e)², e = e^−\|z\| | −tanh(z/2)·s′(z) |
 * | `softplus` | log(1 + e^z) | s(z) | s′(z) |
 * | `silu` | z·s(z) | s(z) + z·s′(z) | s′(z)·(2 − z·tanh(z/2)) |
 *
 * φ(z) = e^(−z²/2)/√(2π). sech² z = 4e/(1 + e)² with e = e^(−2|z|), and s′ in
 * the form above, never cancel in saturation (1 − tanh² and s·(1 − s) do).
 */
export type StandardActivation = 'relu' | 'gelu' | 'tanh' | 'sigmoid' | 'softplus' | 'silu';

/** Every {@link StandardActivation}, in documentation order. */
export const STANDARD_ACTIVATIONS: readonly StandardActivation[] = Object.freeze(['relu', 'gelu', 'tanh', 'sigmoid', 'softplus', 'silu']);

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** sech²(z) = 4e/(1 + e)², e = exp(−2|z|): no cancellation, 0 for |z| → ∞. */
function sech2(z: tf.Tensor): tf.Tensor {
  const e = tf.exp(tf.mul(tf.abs(z), -2));
  return tf.div(tf.mul(e, 4), tf.square(tf.add(e, 1)));
}

/** s′(z) = s(z)·(1 − s(z)) = e/(1 + e)², e = exp(−|z|). */
function sigmoidPrime(z: tf.Tensor): tf.Tensor {
  const e = tf.exp(tf.neg(tf.abs(z)));
  return tf.div(e, tf.square(tf.add(e, 1)));
}

/** Φ(z) = (1 + erf(z/√2))/2. */
function normalCdf(z: tf.Tensor): tf.Tensor {
  return tf.mul(tf.add(tf.erf(tf.mul(z, Math.SQRT1_2)), 1), 0.5);
}

/** φ(z) = exp(−z²/2)/√(2π). */
function normalPdf(z: tf.Tensor): tf.Tensor {
  return tf.mul(tf.exp(tf.mul(tf.square(z), -0.5)), INV_SQRT_2PI);
}

interface Formulas {
  value(z: tf.Tensor): tf.Tensor;
  first(z: tf.Tensor): tf.Tensor;
  second(z: tf.Tensor): tf.Tensor;
}

const FORMULAS: Record<StandardActivation, Formulas> = {
  relu: {
    value: (z) => tf.relu(z),
    first: (z) => tf.step(z), // 1 for z > 0, 0 for z ≤ 0
    second: (z) => tf.zerosLike(z),
  },
  gelu: {
    // the same op order as a hand-written 0.5·z·(1 + erf(z/√2))
    value: (z) => tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2)))),
    first: (z) => tf.add(normalCdf(z), tf.mul(z, normalPdf(z))),
    second: (z) => tf.mul(normalPdf(z), tf.sub(2, tf.square(z))),
  },
  tanh: {
    value: (z) => tf.tanh(z),
    first: (z) => sech2(z),
    second: (z) => tf.mul(tf.mul(tf.tanh(z), sech2(z)), -2),
  },
  sigmoid: {
    value: (z) => tf.sigmoid(z),
    first: (z) => sigmoidPrime(z),
    second: (z) => tf.neg(tf.mul(tf.tanh(tf.mul(z, 0.5)), sigmoidPrime(z))),
  },
  softplus: {
    value: (z) => tf.softplus(z),
    first: (z) => tf.sigmoid(z),
    second: (z) => sigmoidPrime(z),
  },
  silu: {
    value: (z) => tf.mul(z, tf.sigmoid(z)),
    first: (z) => tf.add(tf.sigmoid(z), tf.mul(z, sigmoidPrime(z))),
    second: (z) => tf.mul(sigmoidPrime(z), tf.sub(2, tf.mul(z, tf.tanh(tf.mul(z, 0.5))))),
  },
};

/**
 * Checks an activation name.
 * @throws ConfigError (option `activation`) naming the valid ones.
 */
export function checkActivation(name: unknown): asserts name is StandardActivation {
  if (typeof name !== 'string' || !(STANDARD_ACTIVATIONS as readonly string[]).includes(name)) {
    throw new ConfigError(`must be one of ${STANDARD_ACTIVATIONS.join(', ')}, got ${JSON.stringify(name)}`, { option: 'activation' });
  }
}

type Unary = (z: tf.Tensor) => tf.Tensor;
const valueOps = new Map<StandardActivation, Unary>();
const firstOps = new Map<StandardActivation, Unary>();

/** The op z ↦ σ′(z) with gradient dy·σ″(z) (analytic, from the saved input). */
function firstOp(a: StandardActivation): Unary {
  let op = firstOps.get(a);
  if (op === undefined) {
    const f = FORMULAS[a];
    op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [z, save] = args as [tf.Tensor, tf.GradSaveFunc];
      save([z]);
      return { value: f.first(z), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, f.second(saved[0])) };
    }) as unknown as Unary;
    firstOps.set(a, op);
  }
  return op;
}

/** The op z ↦ σ(z) with gradient dy·σ′(z), σ′ from {@link firstOp} (so σ″ is analytic too). */
function valueOp(a: StandardActivation): Unary {
  let op = valueOps.get(a);
  if (op === undefined) {
    const f = FORMULAS[a];
    const d1 = firstOp(a);
    op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [z, save] = args as [tf.Tensor, tf.GradSaveFunc];
      save([z]);
      return { value: f.value(z), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, d1(saved[0])) };
    }) as unknown as Unary;
    valueOps.set(a, op);
  }
  return op;
}

function checkInput(z: tf.Tensor, what: string): void {
  if (!(z instanceof tf.Tensor)) throw new ConfigError(`${what} expects a tensor, got ${typeof z}`, { option: 'z' });
}

/**
 * σ(z) elementwise for a standard activation, as one op whose gradients are
 * analytic to second order: ∂σ/∂z = σ′(z) recomputed from the input z, and
 * ∂σ′/∂z = σ″(z) (see {@link StandardActivation} for the formulas). So
 * `tf.grad` of `tf.grad` — double backpropagation (the input-gradient penalty,
 * Jacobian projections) — is exact, wherever else z or x appears in the loss.
 * tfjs's own `tf.tanh` and `tf.sigmoid` reuse their saved *output* in the
 * gradient, which drops the second-order term silently.
 *
 * @param z any shape, float32.
 * @param activation see {@link StandardActivation}.
 * @returns σ(z), shape of z.
 * @throws ConfigError (option `activation`) for an unknown name.
 */
export function activate(z: tf.Tensor, activation: StandardActivation): tf.Tensor {
  checkActivation(activation);
  checkInput(z, 'activate');
  return valueOp(activation)(z);
}

/**
 * σ′(z) elementwise (the DREG trace's `dy`), as one op whose gradient is the
 * analytic σ″(z): the gradient of a penalty built from σ′ (DREG) reaches z, W
 * and b exactly with first-order autodiff.
 * relu: σ′(0) = 0 (the convention of tfjs's Relu gradient, step(0) = 0).
 *
 * @param z any shape, float32. @param activation see {@link StandardActivation}.
 * @returns σ′(z), shape of z.
 * @throws ConfigError (option `activation`) for an unknown name.
 */
export function activationDerivative(z: tf.Tensor, activation: StandardActivation): tf.Tensor {
  checkActivation(activation);
  checkInput(z, 'activationDerivative');
  return firstOp(activation)(z);
}

/**
 * σ″(z) elementwise (the DREG trace's `d2y`, for the curvature add-on), from
 * ordinary ops (differentiable once more with first-order autodiff).
 * @param z any shape, float32. @param activation see {@link StandardActivation}.
 * @returns σ″(z), shape of z (relu: zeros).
 * @throws ConfigError (option `activation`) for an unknown name.
 */
export function activationSecondDerivative(z: tf.Tensor, activation: StandardActivation): tf.Tensor {
  checkActivation(activation);
  checkInput(z, 'activationSecondDerivative');
  return tf.tidy(() => FORMULAS[activation].second(z));
}
