// Float64 references of the standard activations and their first two derivatives,
// written directly from the textbook definitions (independent of the tfjs code).
import type { StandardActivation } from '../activations';

/** erf by its Maclaurin series (|x| ≤ 4: about 1e-13 absolute in float64). */
export function erf64(x: number): number {
  if (Math.abs(x) > 4) throw new Error(`erf64: |x| = ${Math.abs(x)} > 4 is outside the tested range`);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const sig = (z: number) => 1 / (1 + Math.exp(-z));
const Phi = (z: number) => 0.5 * (1 + erf64(z / Math.SQRT2));
const phi = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

/** [σ(z), σ′(z), σ″(z)] in float64. */
export function ref64(a: StandardActivation, z: number): [number, number, number] {
  switch (a) {
    case 'relu':
      return [Math.max(0, z), z > 0 ? 1 : 0, 0];
    case 'gelu':
      return [z * Phi(z), Phi(z) + z * phi(z), phi(z) * (2 - z * z)];
    case 'tanh': {
      const t = Math.tanh(z);
      const c = Math.cosh(z);
      return [t, 1 / (c * c), (-2 * t) / (c * c)];
    }
    case 'sigmoid': {
      const s = sig(z);
      return [s, s * (1 - s), s * (1 - s) * (1 - 2 * s)];
    }
    case 'softplus': {
      const s = sig(z);
      return [Math.log1p(Math.exp(z)), s, s * (1 - s)];
    }
    case 'silu': {
      const s = sig(z);
      return [z * s, s + z * s * (1 - s), s * (1 - s) * (2 + z * (1 - 2 * s))];
    }
  }
}
