import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@chainz/core';

/*
 * Why tfjs 4.22 gets some second derivatives silently wrong, and the fix.
 *
 * tfjs records every op on a tape with the gradient function registered for it
 * at that moment and the tensors that function needs ("saved"), which are
 * clones. The gradients of the Tanh, Sigmoid, Exp, Elu and Softmax kernels use
 * the op's saved *output* y (tanh: dy·(1 − y²)). The clone of y is recorded on
 * the tape *before* the op that produces y, so when the backward pass is itself
 * differentiated (double backpropagation), the path from the saved y back to
 * the input is never found: the second-order term through y is dropped. With
 * no other path from the input to the gradient tfjs throws ("Cannot compute
 * gradient…"); with another path (x² in d²/dx²[tanh x + x²], a skip connection,
 * the weights themselves) it returns a wrong number without an error.
 *
 * The gradients below save the op's *input* instead and recompute what they
 * need from it (tanh: dy·sech²(x)), so the tape holds the full path. They are
 * installed only while `fn` runs (tfjs looks the gradient up when it records
 * an op, so every op recorded in that window keeps them), and the registry is
 * restored afterwards.
 */

/** sech²(x) = 4e/(1 + e)², e = exp(−2|x|) (no cancellation in saturation). */
function sech2(x: tf.Tensor): tf.Tensor {
  const e = tf.exp(tf.mul(tf.abs(x), -2));
  return tf.div(tf.mul(e, 4), tf.square(tf.add(e, 1)));
}

/** s′(x) = e/(1 + e)², e = exp(−|x|). */
function sigmoidPrime(x: tf.Tensor): tf.Tensor {
  const e = tf.exp(tf.neg(tf.abs(x)));
  return tf.div(e, tf.square(tf.add(e, 1)));
}

/** Input-saving gradients of the tfjs kernels whose own gradient reuses the saved output. */
const INPUT_SAVING_GRADIENTS: tf.GradConfig[] = [
  {
    kernelName: 'Tanh',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, sech2(saved[0])) }),
  },
  {
    kernelName: 'Sigmoid',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, sigmoidPrime(saved[0])) }),
  },
  {
    kernelName: 'Exp',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.exp(saved[0])) }),
  },
  {
    // elu'(x) = 1 for x > 0, exp(x) for x ≤ 0 (tfjs's EluGrad gives 1 at 0 as well: y + 1 = 1)
    kernelName: 'Elu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({
      x: () => {
        const x = saved[0];
        const pos = tf.step(x); // 1 for x > 0
        return tf.mul(dy as tf.Tensor, tf.add(pos, tf.mul(tf.sub(1, pos), tf.exp(tf.neg(tf.relu(tf.neg(x)))))));
      },
    }),
  },
  {
    // ∂softmax: dy·s − s·Σ(dy·s), s recomputed from the logits
    kernelName: 'Softmax',
    inputsToSave: ['logits'],
    gradFunc: (dy, saved, attrs) => ({
      logits: () => {
        const dim = (attrs as unknown as { dim: number }).dim;
        const s = tf.softmax(saved[0], dim);
        const dys = tf.mul(dy as tf.Tensor, s);
        return tf.sub(dys, tf.mul(tf.sum(dys, dim, true), s));
      },
    }),
  },
];

/** Kernels whose gradient {@link withTwiceDifferentiableGradients} replaces. */
export const TWICE_DIFFERENTIABLE_KERNELS: readonly string[] = Object.freeze(INPUT_SAVING_GRADIENTS.map((g) => g.kernelName));

let depth = 0;
let originals: Array<tf.GradConfig | undefined> = [];

/**
 * Runs `fn` with gradients of tfjs's Tanh, Sigmoid, Exp, Elu and Softmax
 * kernels that can be differentiated again: they save the op's input and
 * recompute the derivative from it (tanh: dy·sech²(x); sigmoid: dy·s′(x);
 * exp: dy·exp(x); elu: 1 or exp(x); softmax: from the recomputed softmax),
 * instead of reusing the saved output, which makes tfjs 4.22's second
 * derivatives through these ops silently wrong (e.g. d²/dx²[tanh x + x²]
 * comes out as 2). Every op recorded while `fn` runs keeps these gradients;
 * tfjs's registry is restored when `fn` returns or throws. Nested calls are
 * allowed. `fn` must be synchronous.
 *
 * `inputGradientPenalty` and `randomProjectionJacobianPenalty` run their
 * forward and first backward pass inside it; call it yourself around other
 * double-backpropagation code (`tf.grad` of `tf.grad`) that uses these ops.
 * First-order gradients are unchanged (same values up to float32 rounding).
 * Ops whose gradient tfjs cannot differentiate at all (LeakyRelu, Selu, Prelu,
 * `tf.clipByValue`: comparison ops without gradients) still throw.
 * Not covered (a `tf.customGrad` inside tfjs that reuses its output, not a
 * kernel gradient): `tf.logSoftmax` stays silently wrong to second order; write
 * log-softmax as z − logsumexp(z) or use `twiceDifferentiableSoftmaxCrossEntropy`.
 *
 * @param fn synchronous function.
 * @returns what `fn` returns.
 */
export function withTwiceDifferentiableGradients<T>(fn: () => T): T {
  if (depth === 0) {
    originals = INPUT_SAVING_GRADIENTS.map((g) => tf.getGradient(g.kernelName));
    for (const g of INPUT_SAVING_GRADIENTS) tf.registerGradient(g);
  }
  depth++;
  try {
    return fn();
  } finally {
    depth--;
    if (depth === 0) {
      INPUT_SAVING_GRADIENTS.forEach((g, i) => {
        const original = originals[i];
        if (original) tf.registerGradient(original);
        else tf.unregisterGradient(g.kernelName);
      });
      originals = [];
    }
  }
}

/**
 * tfjs ops built as a `tf.customGrad` whose gradient reuses the op's output, so
 * that their second derivative is silently wrong and cannot be fixed by the
 * kernel gradients above (tape scope name → what to use instead).
 */
const NOT_TWICE_DIFFERENTIABLE: Readonly<Record<string, [string, string]>> = Object.freeze({
  softmaxCrossEntropy__op: ['tf.losses.softmaxCrossEntropy', 'twiceDifferentiableSoftmaxCrossEntropy (@chainz/dreg)'],
  logSoftmax__op: ['tf.logSoftmax', 'z − logsumexp(z), or twiceDifferentiableSoftmaxCrossEntropy (@chainz/dreg) for a cross-entropy'],
});

interface TapeState {
  state?: { activeTape?: Array<{ kernelName?: string }> };
}

/**
 * Runs the forward function `fn` of a double-backpropagation penalty and refuses
 * ops that tfjs 4.22 differentiates twice wrongly without an error (see
 * NOT_TWICE_DIFFERENTIABLE): it looks at the tape nodes `fn` recorded (tfjs's
 * engine state; nothing is checked when no tape is recording).
 * @param what the penalty, for the message.
 * @throws ConfigError (option `loss`) naming the op and what to use instead.
 * @internal
 */
export function forwardForDoubleBackprop<T>(what: string, fn: () => T): T {
  const tape = (tf.engine() as unknown as TapeState).state?.activeTape;
  const start = Array.isArray(tape) ? tape.length : -1;
  const out = fn();
  const now = (tf.engine() as unknown as TapeState).state?.activeTape;
  if (start >= 0 && now === tape) {
    for (let i = start; i < tape!.length; i++) {
      const bad = NOT_TWICE_DIFFERENTIABLE[tape![i].kernelName ?? ''];
      if (bad) {
        throw new ConfigError(
          `${what}: ${bad[0]} cannot be differentiated twice in tfjs 4.22 (its gradient reuses its output, so the penalty's gradient would be silently wrong); use ${bad[1]}`,
          { option: 'loss' },
        );
      }
    }
  }
  return out;
}
