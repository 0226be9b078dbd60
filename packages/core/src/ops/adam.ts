import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';
import { heapOffset, wasmSimd } from './wasm-backend';

/*
 * Adam with the whole update of a model in one kernel call (cpu and wasm):
 * tfjs's `tf.train.adam` runs about twelve kernels per variable and step
 * (mul, add, square, div, sqrt, … and assigns), which for a small model costs
 * more than its forward pass. The kernel below performs the same float32
 * operations in the same order, so its results equal `tf.train.adam`'s bit for
 * bit (on wasm the operations are IEEE float32 in both; on cpu both compute in
 * float64 and round to float32 after every operation). On other backends the
 * optimiser runs tfjs's operation sequence with ordinary ops.
 */

/**
 * The fused Adam update of several variables: inputs `p0, g0, m0, v0, p1, …`
 * (value, gradient, first and second moment of each variable, float32, any
 * shapes), attributes `{ b1, c1, b2, c2, omb1, omb2, eps, nlr }` (float32
 * values); outputs `[p0', m0', v0', p1', …]`.
 */
export const ADAM_UPDATE = 'ChainzAdamUpdate';

interface AdamScalars {
  b1: number;
  c1: number;
  b2: number;
  c2: number;
  omb1: number;
  omb2: number;
  eps: number;
  nlr: number;
}

const f = Math.fround;

/** One variable's update on float32 arrays, each operation rounded to float32 (tfjs's cpu kernels compute the same). */
function adamJs(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, pOut: Float32Array, mOut: Float32Array, vOut: Float32Array, s: AdamScalars): void {
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = f(f(m[i] * s.b1) + f(gi * s.c1));
    const vi = f(f(v[i] * s.b2) + f(f(gi * gi) * s.c2));
    mOut[i] = mi;
    vOut[i] = vi;
    pOut[i] = f(f(f(f(mi / s.omb1) / f(f(Math.sqrt(f(vi / s.omb2))) + s.eps)) * s.nlr) + p[i]);
  }
}

function scalarsOf(attrs: tf.NamedAttrMap | undefined): AdamScalars {
  const a = (attrs ?? {}) as unknown as AdamScalars;
  return { b1: a.b1, c1: a.c1, b2: a.b2, c2: a.c2, omb1: a.omb1, omb2: a.omb2, eps: a.eps, nlr: a.nlr };
}

function variableCount(inputs: tf.NamedTensorInfoMap): number {
  return Object.keys(inputs).length / 4;
}

function input(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`kernel input '${name}' is missing`);
  return t;
}

const cpuAdam: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as { data: { get(id: object): { values?: unknown } }; makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo };
  const s = scalarsOf(attrs);
  const out: tf.TensorInfo[] = [];
  const vals = (t: tf.TensorInfo) => be.data.get(t.dataId).values as Float32Array;
  for (let k = 0; k < variableCount(inputs); k++) {
    const p = input(inputs, `p${k}`);
    const n = vals(p).length;
    const o = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    adamJs(vals(p), vals(input(inputs, `g${k}`)), vals(input(inputs, `m${k}`)), vals(input(inputs, `v${k}`)), o[0], o[1], o[2], s);
    for (const a of o) out.push(be.makeTensorInfo(p.shape, 'float32', a));
  }
  return out;
};

const wasmAdam: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const w = wasmSimd(backend);
  if (!w) throw new Error('the Adam kernel needs the wasm backend with WebAssembly SIMD on a non-shared memory');
  const { be, simd } = w;
  const s = scalarsOf(attrs);
  const out: tf.TensorInfo[] = [];
  for (let k = 0; k < variableCount(inputs); k++) {
    const p = input(inputs, `p${k}`);
    const n = p.shape.reduce((a, b) => a * b, 1);
    const o = [be.makeOutput(p.shape, 'float32'), be.makeOutput(p.shape, 'float32'), be.makeOutput(p.shape, 'float32')];
    const at = (name: string) => heapOffset(be, input(inputs, `${name}${k}`));
    simd.adam(at('p'), at('g'), at('m'), at('v'), heapOffset(be, o[0]), heapOffset(be, o[1]), heapOffset(be, o[2]), n, s.b1, s.c1, s.b2, s.c2, s.omb1, s.omb2, s.eps, s.nlr);
    out.push(...o);
  }
  return out;
};

let registered = false;

function registerAdamKernels(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel(ADAM_UPDATE, 'cpu') == null) tf.registerKernel({ kernelName: ADAM_UPDATE, backendName: 'cpu', kernelFunc: cpuAdam });
  if (tf.getKernel(ADAM_UPDATE, 'wasm') == null) tf.registerKernel({ kernelName: ADAM_UPDATE, backendName: 'wasm', kernelFunc: wasmAdam });
}

const wasmUsable = new WeakMap<object, boolean>();

/** True when the fused update can run on the active backend. */
function kernelUsable(): boolean {
  const name = tf.getBackend();
  if (tf.getKernel(ADAM_UPDATE, name) == null) return false;
  if (name !== 'wasm') return true;
  const backend = tf.backend() as unknown as object;
  let ok = wasmUsable.get(backend);
  if (ok === undefined) {
    ok = wasmSimd(backend) !== null;
    wasmUsable.set(backend, ok);
  }
  return ok;
}

/** A named tensor, as tfjs's optimisers exchange them (tfjs-core's `NamedTensor`, not exported from its index). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/**
 * Adam (Kingma & Ba 2015) as tfjs's `tf.train.adam` computes it, with the
 * update of all variables in one fused kernel on the cpu and wasm backends:
 *
 *     m ← β1·m + (1−β1)·g,   v ← β2·v + (1−β2)·g²,
 *     θ ← θ − lr · (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε),
 *
 * every operation rounded to float32 in tfjs's order (β1ᵗ kept as a float32
 * product, as tfjs's accumulator variable), so that parameters and moments
 * equal `tf.train.adam`'s bit for bit. A drop-in replacement: use it with
 * `minimize` / `applyGradients`; `getWeights`/`setWeights` use tfjs's layout
 * (iterations, then every `name/m`, then every `name/v`). On backends without
 * the kernel it runs tfjs's own sequence of ops.
 */
export class FusedAdamOptimizer extends tf.Optimizer {
  /** @nocollapse */
  static get className(): string {
    return 'ChainzFusedAdam';
  }

  private accBeta1: number;
  private accBeta2: number;
  private readonly firstMoment: Slot[] = [];
  private readonly secondMoment: Slot[] = [];
  private readonly eps: number;

  /**
   * @param learningRate lr (> 0).
   * @param beta1 β1 in [0, 1) (default 0.9).
   * @param beta2 β2 in [0, 1) (default 0.999).
   * @param epsilon ε (default: the backend's epsilon, 1e-7 for float32).
   * @throws ConfigError naming the option for a non-finite or out-of-range value.
   */
  constructor(
    protected learningRate: number,
    protected beta1 = 0.9,
    protected beta2 = 0.999,
    epsilon: number | null = null,
  ) {
    super();
    if (!Number.isFinite(learningRate)) throw new ConfigError(`must be a finite number, got ${learningRate}`, { option: 'learningRate' });
    for (const [k, b] of [
      ['beta1', beta1],
      ['beta2', beta2],
    ] as const) {
      if (!(b >= 0 && b < 1)) throw new ConfigError(`must be in [0, 1), got ${b}`, { option: k });
    }
    this.eps = epsilon ?? tf.backend().epsilon();
    if (!Number.isFinite(this.eps)) throw new ConfigError(`must be a finite number, got ${epsilon}`, { option: 'epsilon' });
    this.accBeta1 = f(beta1);
    this.accBeta2 = f(beta2);
    registerAdamKernels();
  }

  /** Applies one Adam step to the variables named in `variableGradients` (gradients that are null/undefined are skipped, as tfjs does). */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const engine = tf.engine() as unknown as { registeredVariables: Record<string, tf.Variable> };
    const work: Array<{ value: tf.Variable; gradient: tf.Tensor; m: tf.Variable; v: tf.Variable }> = [];
    names.forEach((name, i) => {
      const value = engine.registeredVariables[name];
      if (this.firstMoment[i] == null) this.firstMoment[i] = { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      if (this.secondMoment[i] == null) this.secondMoment[i] = { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (gradient == null) return;
      work.push({ value, gradient, m: this.firstMoment[i].variable, v: this.secondMoment[i].variable });
    });
    const s: AdamScalars = {
      b1: f(this.beta1),
      c1: f(1 - this.beta1),
      b2: f(this.beta2),
      c2: f(1 - this.beta2),
      omb1: f(1 - this.accBeta1),
      omb2: f(1 - this.accBeta2),
      eps: f(this.eps),
      nlr: f(-this.learningRate),
    };
    if (work.length > 0 && kernelUsable() && work.every((w) => w.value.dtype === 'float32' && w.gradient.dtype === 'float32')) {
      const inputs: tf.NamedTensorMap = {};
      work.forEach((w, k) => {
        inputs[`p${k}`] = w.value;
        inputs[`g${k}`] = w.gradient;
        inputs[`m${k}`] = w.m;
        inputs[`v${k}`] = w.v;
      });
      const out = tf.engine().runKernel(ADAM_UPDATE, inputs, s as unknown as tf.NamedAttrMap) as tf.Tensor[];
      work.forEach((w, k) => {
        w.value.assign(out[3 * k]);
        w.m.assign(out[3 * k + 1]);
        w.v.assign(out[3 * k + 2]);
      });
      tf.dispose(out);
    } else {
      // tfjs's own sequence (AdamOptimizer.applyGradients), op for op
      tf.tidy(() => {
        const oneMinusAccBeta1 = tf.scalar(s.omb1);
        const oneMinusAccBeta2 = tf.scalar(s.omb2);
        for (const w of work) {
          const m = tf.add(tf.mul(w.m, this.beta1), tf.mul(w.gradient, 1 - this.beta1));
          const v = tf.add(tf.mul(w.v, this.beta2), tf.mul(tf.square(w.gradient), 1 - this.beta2));
          const mHat = tf.div(m, oneMinusAccBeta1);
          const vHat = tf.div(v, oneMinusAccBeta2);
          w.m.assign(m);
          w.v.assign(v);
          w.value.assign(tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.eps)), -this.learningRate), w.value));
        }
      });
    }
    this.accBeta1 = f(this.accBeta1 * s.b1);
    this.accBeta2 = f(this.accBeta2 * s.b2);
    this.incrementIterations();
  }

  /** Disposes the moment variables. */
  override dispose(): void {
    tf.dispose([...this.firstMoment.map((x) => x.variable), ...this.secondMoment.map((x) => x.variable)]);
    this.firstMoment.length = 0;
    this.secondMoment.length = 0;
  }

  /** [iterations, every `name/m`, every `name/v`] (tfjs's Adam layout). */
  override async getWeights(): Promise<NamedTensor[]> {
    return [await this.saveIterations(), ...[...this.firstMoment, ...this.secondMoment].map((x) => ({ name: x.originalName, tensor: x.variable }))];
  }

  /** Restores what {@link getWeights} returned (β1ᵗ, β2ᵗ recomputed from the iteration count as tfjs does). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const t = this.iterations + 1;
    const acc = tf.tidy(() => tf.stack([tf.pow(this.beta1, t), tf.pow(this.beta2, t)]));
    const a = await acc.data();
    acc.dispose();
    this.accBeta1 = a[0];
    this.accBeta2 = a[1];
    this.dispose();
    const n = rest.length / 2;
    rest.slice(0, n).forEach((x) => this.firstMoment.push({ originalName: x.name, variable: x.tensor.variable(false) }));
    rest.slice(n, 2 * n).forEach((x) => this.secondMoment.push({ originalName: x.name, variable: x.tensor.variable(false) }));
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.eps };
  }

  /** @nocollapse */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config.learningRate, config.beta1, config.beta2, config.epsilon);
  }
}

/**
 * {@link FusedAdamOptimizer}: Adam with tfjs's arithmetic and one fused kernel
 * per step on cpu and wasm (`tf.train.adam`'s signature and defaults).
 *
 * @param learningRate lr (default 0.001).
 * @param beta1 β1 (default 0.9).
 * @param beta2 β2 (default 0.999).
 * @param epsilon ε (default: the backend's, 1e-7).
 * @throws ConfigError for invalid values.
 */
export function adam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
