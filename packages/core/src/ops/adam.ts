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

/**
 * {@link ADAM_UPDATE} for variables whose leading axis indexes G independent
 * models (each with its own step count): the same inputs, attributes
 * `{ b1, c1, b2, c2, eps, nlr, omb1: number[G], omb2: number[G], active: number[G] }`;
 * the slice of group g is updated with its own bias corrections when
 * `active[g]` is 1 and copied unchanged otherwise.
 */
export const ADAM_UPDATE_GROUPED = 'ChainzAdamUpdateGrouped';

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

interface GroupedScalars {
  common: AdamScalars;
  omb1: number[];
  omb2: number[];
  active: number[];
}

function groupedOf(attrs: tf.NamedAttrMap | undefined): GroupedScalars {
  const a = (attrs ?? {}) as unknown as { omb1: number[]; omb2: number[]; active: number[] };
  return { common: scalarsOf(attrs), omb1: a.omb1, omb2: a.omb2, active: a.active };
}

const cpuAdamGrouped: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as { data: { get(id: object): { values?: unknown } }; makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo };
  const s = groupedOf(attrs);
  const G = s.active.length;
  const out: tf.TensorInfo[] = [];
  const vals = (t: tf.TensorInfo) => be.data.get(t.dataId).values as Float32Array;
  for (let k = 0; k < variableCount(inputs); k++) {
    const p = input(inputs, `p${k}`);
    const [pv, gv, mv, vv] = ['p', 'g', 'm', 'v'].map((nm) => vals(input(inputs, `${nm}${k}`)));
    const n = pv.length;
    const o = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    const per = n / G;
    for (let g = 0; g < G; g++) {
      const sl = (a: Float32Array) => a.subarray(g * per, (g + 1) * per);
      if (s.active[g]) adamJs(sl(pv), sl(gv), sl(mv), sl(vv), sl(o[0]), sl(o[1]), sl(o[2]), { ...s.common, omb1: s.omb1[g], omb2: s.omb2[g] });
      else {
        sl(o[0]).set(sl(pv));
        sl(o[1]).set(sl(mv));
        sl(o[2]).set(sl(vv));
      }
    }
    for (const a of o) out.push(be.makeTensorInfo(p.shape, 'float32', a));
  }
  return out;
};

const wasmAdamGrouped: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const w = wasmSimd(backend);
  if (!w) throw new Error('the Adam kernel needs the wasm backend with WebAssembly SIMD on a non-shared memory');
  const { be, simd } = w;
  const s = groupedOf(attrs);
  const c = s.common;
  const G = s.active.length;
  const out: tf.TensorInfo[] = [];
  for (let k = 0; k < variableCount(inputs); k++) {
    const p = input(inputs, `p${k}`);
    const per = p.shape.reduce((a, b) => a * b, 1) / G;
    const o = [be.makeOutput(p.shape, 'float32'), be.makeOutput(p.shape, 'float32'), be.makeOutput(p.shape, 'float32')];
    const at = (name: string) => heapOffset(be, input(inputs, `${name}${k}`));
    const [pp, pg, pm, pv] = [at('p'), at('g'), at('m'), at('v')];
    const [op, om, ov] = o.map((t) => heapOffset(be, t));
    for (let g = 0; g < G; g++) {
      const off = 4 * g * per;
      if (s.active[g]) simd.adam(pp + off, pg + off, pm + off, pv + off, op + off, om + off, ov + off, per, c.b1, c.c1, c.b2, c.c2, s.omb1[g], s.omb2[g], c.eps, c.nlr);
      else {
        const heap = new Uint8Array((be as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer);
        heap.copyWithin(op + off, pp + off, pp + off + 4 * per);
        heap.copyWithin(om + off, pm + off, pm + off + 4 * per);
        heap.copyWithin(ov + off, pv + off, pv + off + 4 * per);
      }
    }
    out.push(...o);
  }
  return out;
};

let registered = false;

function registerAdamKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, backendName, kernelFunc] of [
    [ADAM_UPDATE, 'cpu', cpuAdam],
    [ADAM_UPDATE, 'wasm', wasmAdam],
    [ADAM_UPDATE_GROUPED, 'cpu', cpuAdamGrouped],
    [ADAM_UPDATE_GROUPED, 'wasm', wasmAdamGrouped],
  ] as const) {
    if (tf.getKernel(kernelName, backendName) == null) tf.registerKernel({ kernelName, backendName, kernelFunc });
  }
}

const wasmUsable = new WeakMap<object, boolean>();

/** True when the fused update (`kernel`) can run on the active backend. */
function kernelUsable(kernel = ADAM_UPDATE): boolean {
  const name = tf.getBackend();
  if (tf.getKernel(kernel, name) == null) return false;
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
export interface OptimizerNamedTensor {
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
  applyGradients(variableGradients: tf.NamedTensorMap | OptimizerNamedTensor[]): void {
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
  override async getWeights(): Promise<OptimizerNamedTensor[]> {
    return [await this.saveIterations(), ...[...this.firstMoment, ...this.secondMoment].map((x) => ({ name: x.originalName, tensor: x.variable }))];
  }

  /** Restores what {@link getWeights} returned (β1ᵗ, β2ᵗ recomputed from the iteration count as tfjs does). */
  override async setWeights(weightValues: OptimizerNamedTensor[]): Promise<void> {
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

/**
 * Adam for models trained side by side in stacked variables (leading axis G:
 * one slice per model), each model with its own step count: a step updates
 * the slices of the models marked active and leaves the others unchanged (a
 * model that has finished its epoch while others have not). Each slice gets
 * exactly the arithmetic of {@link FusedAdamOptimizer} (and `tf.train.adam`)
 * with its own β1ᵗ, β2ᵗ, so G models trained this way equal G models trained
 * one by one, bit for bit. One kernel per step on cpu and wasm; elsewhere
 * tfjs ops per slice.
 */
export class GroupedAdamOptimizer {
  private readonly accBeta1: number[];
  private readonly accBeta2: number[];
  private readonly moments = new Map<tf.Variable, { m: tf.Variable; v: tf.Variable }>();
  private readonly eps: number;

  /**
   * @param groups G ≥ 1.
   * @param learningRate lr; `beta1`, `beta2`, `epsilon` as {@link FusedAdamOptimizer}.
   * @throws ConfigError naming the option for an invalid value.
   */
  constructor(
    readonly groups: number,
    readonly learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    epsilon: number | null = null,
  ) {
    if (!Number.isInteger(groups) || groups < 1) throw new ConfigError(`must be an integer ≥ 1, got ${groups}`, { option: 'groups' });
    if (!Number.isFinite(learningRate)) throw new ConfigError(`must be a finite number, got ${learningRate}`, { option: 'learningRate' });
    this.eps = epsilon ?? tf.backend().epsilon();
    this.accBeta1 = new Array<number>(groups).fill(f(beta1));
    this.accBeta2 = new Array<number>(groups).fill(f(beta2));
    registerAdamKernels();
  }

  /** The number of steps each group has taken. */
  readonly steps: number[] = [];

  /**
   * One step: `variables[i] ← Adam(variables[i], gradients[i])` on the slices of the groups
   * with `active[g]` true.
   * @param variables stacked variables `[G, …]`.
   * @param gradients their gradients (same shapes).
   * @param active one flag per group.
   */
  applyGradients(variables: tf.Variable[], gradients: tf.Tensor[], active: boolean[]): void {
    const G = this.groups;
    if (active.length !== G) throw new ConfigError(`needs ${G} flags, got ${active.length}`, { option: 'active' });
    for (const v of variables) {
      if (v.shape[0] !== G) throw new ConfigError(`variable '${v.name}' has leading size ${v.shape[0]}, expected ${G}`, { option: 'variables' });
      if (!this.moments.has(v)) this.moments.set(v, { m: tf.tidy(() => tf.zerosLike(v).variable(false)), v: tf.tidy(() => tf.zerosLike(v).variable(false)) });
    }
    const b1 = f(this.beta1);
    const b2 = f(this.beta2);
    const common: AdamScalars = { b1, c1: f(1 - this.beta1), b2, c2: f(1 - this.beta2), omb1: 0, omb2: 0, eps: f(this.eps), nlr: f(-this.learningRate) };
    const omb1 = this.accBeta1.map((a) => f(1 - a));
    const omb2 = this.accBeta2.map((a) => f(1 - a));
    const flags = active.map((a) => (a ? 1 : 0));
    if (kernelUsable(ADAM_UPDATE_GROUPED) && variables.every((v, i) => v.dtype === 'float32' && gradients[i].dtype === 'float32')) {
      const inputs: tf.NamedTensorMap = {};
      variables.forEach((v, k) => {
        const s = this.moments.get(v)!;
        inputs[`p${k}`] = v;
        inputs[`g${k}`] = gradients[k];
        inputs[`m${k}`] = s.m;
        inputs[`v${k}`] = s.v;
      });
      const out = tf.engine().runKernel(ADAM_UPDATE_GROUPED, inputs, { ...common, omb1, omb2, active: flags } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      variables.forEach((v, k) => {
        const s = this.moments.get(v)!;
        v.assign(out[3 * k]);
        s.m.assign(out[3 * k + 1]);
        s.v.assign(out[3 * k + 2]);
      });
      tf.dispose(out);
    } else {
      // tfjs's op sequence on each active slice
      tf.tidy(() => {
        variables.forEach((v, k) => {
          const s = this.moments.get(v)!;
          const parts = { p: tf.unstack(v), m: tf.unstack(s.m), v: tf.unstack(s.v), g: tf.unstack(gradients[k]) };
          for (let g = 0; g < G; g++) {
            if (!active[g]) continue;
            const m = tf.add(tf.mul(parts.m[g], this.beta1), tf.mul(parts.g[g], 1 - this.beta1));
            const vv = tf.add(tf.mul(parts.v[g], this.beta2), tf.mul(tf.square(parts.g[g]), 1 - this.beta2));
            const mHat = tf.div(m, tf.scalar(omb1[g]));
            const vHat = tf.div(vv, tf.scalar(omb2[g]));
            parts.p[g] = tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.eps)), -this.learningRate), parts.p[g]);
            parts.m[g] = m;
            parts.v[g] = vv;
          }
          v.assign(tf.stack(parts.p));
          s.m.assign(tf.stack(parts.m));
          s.v.assign(tf.stack(parts.v));
        });
      });
    }
    for (let g = 0; g < G; g++) {
      if (!active[g]) continue;
      this.accBeta1[g] = f(this.accBeta1[g] * b1);
      this.accBeta2[g] = f(this.accBeta2[g] * b2);
      this.steps[g] = (this.steps[g] ?? 0) + 1;
    }
  }

  /** Disposes the moment variables. */
  dispose(): void {
    for (const s of this.moments.values()) tf.dispose([s.m, s.v]);
    this.moments.clear();
  }
}
