import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@chainz/core';
import { hasFusedKernels } from '@chainz/poly-layer';
import { markdownTable } from 'markdown-table';
import { collectEnvironment, type EnvironmentInfo } from '../env';
import { makeBatch, matmulVariant, mlpVariant, plainVariant, type PerfBatch, type PerfShape, type PerfVariant } from './variants';

/*
 * `chainz bench perf`: what a training step costs, ChainzRule vs the
 * alternatives, measured side by side in one process on one backend.
 *
 * Method: all variants of a shape are built once; after `warmup` rounds, each
 * round takes one sample of every variant (ABAB…, the order rotated every round
 * so no variant always follows the same one); a sample is one step (or the
 * mean of k consecutive steps with `chunkMs`). Each sample is timed on two
 * clocks: wall time and the process's CPU time (user + system). On the cpu and
 * wasm backends tfjs runs synchronously on the main thread, so CPU time is the
 * step's cost without the time the process waited for a core — on a shared
 * machine a 2 ms step either fits in a time slice or waits for the next, which
 * makes wall times bimodal — and it is the primary clock there (`clock`). A run has
 * `repeats` blocks of `steps` rounds; per block we take each variant's median
 * sample and form the ratios; the table shows the ratio of all samples'
 * medians and, beside it, the lowest and highest block ratio. wasm and cpu run
 * synchronously, so a step's wall time is its cost; on webgpu the loss is read
 * back after every step (which waits for the queue).
 */

/** A target on a ratio: `ratio op value` (e.g. dregOverhead ≤ 1.05). */
export interface PerfTarget {
  op: '<=' | '>=';
  value: number;
}

/**
 * Targets per default shape (ratio name → comparison), on wasm: a ChainzRule +
 * DREG step within 1.5× its matrix multiplies alone, DREG ≤ 5% (Pima size 8%)
 * over the same network without it, the polynomial activation ≤ 12% (Pima
 * size 20%) over ReLU, and the exact input-gradient penalty (double
 * backpropagation) ≥ 3× (Pima size 2×) a DREG step.
 */
export const PERF_TARGETS: Readonly<Record<string, Readonly<Record<string, PerfTarget>>>> = Object.freeze({
  'mlp-64-256-256-10-b256': {
    stepVsMatmul: { op: '<=', value: 1.5 },
    dregOverhead: { op: '<=', value: 1.05 },
    polyVsRelu: { op: '<=', value: 1.12 },
    igpenVsDreg: { op: '>=', value: 3 },
  },
  'pima-8-32-32-2-b64': {
    dregOverhead: { op: '<=', value: 1.08 },
    polyVsRelu: { op: '<=', value: 1.2 },
    igpenVsDreg: { op: '>=', value: 2 },
  },
});

/** The shapes measured by default: the MLP of the task and a Pima-size model. */
export const PERF_SHAPES: readonly PerfShape[] = Object.freeze([
  { name: 'mlp-64-256-256-10-b256', dims: [64, 256, 256, 10], batch: 256 },
  { name: 'pima-8-32-32-2-b64', dims: [8, 32, 32, 2], batch: 64 },
]);

/** The ratios reported per shape (name → [numerator variant, denominator variant]). */
export const PERF_RATIOS: Readonly<Record<string, readonly [string, string]>> = Object.freeze({
  stepVsMatmul: ['cr+dreg', 'matmul'],
  stepVsTfjsMatmul: ['cr+dreg', 'tfjs-matmul'],
  polyVsRelu: ['cr', 'relu'],
  dregOverhead: ['cr+dreg', 'cr'],
  igpenVsDreg: ['softplus+igpen', 'cr+dreg'],
  projectionVsDreg: ['softplus+projection', 'cr+dreg'],
  igpenCrVsDreg: ['cr+igpen', 'cr+dreg'],
  denseSpeedup: ['relu-matmul', 'relu'],
  polyVsReluComposite: ['cr-composite', 'relu'],
  dregOverheadComposite: ['cr+dreg-composite', 'cr-composite'],
  igpenOverSoftplus: ['softplus+igpen', 'softplus'],
});

/** Options of {@link runPerfBench}. */
export interface PerfOptions {
  /** Timed rounds per block (default 30). */
  steps?: number;
  /** Untimed rounds first (default 5). */
  warmup?: number;
  /** Target duration of one sample in ms: k consecutive steps of one variant, the same k for every variant of a shape (default 0: one step per sample). */
  chunkMs?: number;
  /** What is timed: `cpu` (process CPU time: not counting the time the process waits for a core on a shared machine), `wall`, or `auto` (default: cpu on the cpu/wasm backends, which run synchronously on the main thread; wall otherwise). */
  clock?: PerfClock;
  /** Blocks (default 3): the ratio range is over blocks. */
  repeats?: number;
  /** Shapes (default {@link PERF_SHAPES}). */
  shapes?: readonly PerfShape[];
  /** Variant names to run (default all). */
  variants?: string[];
  /** Backend name for the report (the caller activates it). */
  backend: string;
  backendNotes?: string[];
  /** Progress lines on stderr (default none). */
  log?: (line: string) => void;
}

/** Clock of the timings (see {@link PerfOptions.clock}). */
export type PerfClock = 'auto' | 'wall' | 'cpu';

/** Step times of one variant. */
export interface VariantTiming {
  name: string;
  description: string;
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  /** Median on the other clock (wall when the primary is cpu, and vice versa). */
  otherClockMedianMs: number;
  /** medianMs / the `matmul` variant's medianMs (the step against its matrix multiplies alone); absent without that variant. */
  stepVsMatmul?: number;
  samples: number;
  /** Steps per sample. */
  stepsPerSample: number;
}

/** Result for one shape. */
export interface ShapeResult {
  shape: PerfShape;
  /** Clock of `variants[].medianMs`, `ratios`, `ratioRanges`, `targets`. */
  clock: 'wall' | 'cpu';
  variants: VariantTiming[];
  /** Ratio of medians over all samples. */
  ratios: Record<string, number>;
  /** [lowest, highest] ratio over the blocks. */
  ratioRanges: Record<string, [number, number]>;
  /** The ratios on the other clock (for comparison). */
  otherClockRatios: Record<string, number>;
  /** Peak `tf.memory().numBytes` during one step, minus the bytes held before it (working memory), and the absolute peak. */
  memory: Record<string, { stepBytes: number; peakBytes: number }>;
  /** Whether each target of the shape ({@link PERF_TARGETS}) was met (by the ratio of medians). */
  targets: Record<string, boolean>;
}

/** The whole report (also the JSON printed last). */
export interface PerfReport {
  backend: string;
  fusedKernels: boolean;
  protocol: { steps: number; warmup: number; repeats: number; chunkMs: number; clock: 'wall' | 'cpu' };
  shapes: ShapeResult[];
  environment: EnvironmentInfo;
  wallSeconds: number;
}

function buildVariants(shape: PerfShape, batch: PerfBatch, only?: string[]): PerfVariant[] {
  const all: Array<[string, () => PerfVariant]> = [
    ['matmul', () => matmulVariant('matmul', "the step's matrix multiplies alone, as the step computes them", shape, 'own')],
    ['tfjs-matmul', () => matmulVariant('tfjs-matmul', "the same products with tf.matMul (fixed operands)", shape, 'tfjs')],
    ['relu', () => mlpVariant('relu', 'ReLU MLP (project dense)', shape, batch, { activation: 'relu' })],
    ['cr', () => mlpVariant('cr', 'ChainzRule MLP, no DREG (fused kernel)', shape, batch, { activation: 'poly' })],
    ['cr+dreg', () => mlpVariant('cr+dreg', 'ChainzRule MLP + DREG frobenius (fused)', shape, batch, { activation: 'poly', dreg: true })],
    ['cr-composite', () => mlpVariant('cr-composite', 'ChainzRule MLP, composite ops', shape, batch, { activation: 'poly', implementation: 'composite' })],
    ['cr+dreg-composite', () => mlpVariant('cr+dreg-composite', 'ChainzRule + DREG, composite ops', shape, batch, { activation: 'poly', dreg: true, implementation: 'composite' })],
    ['relu-matmul', () => plainVariant('relu-matmul', 'ReLU MLP with tf.matMul (tfjs MatMul gradient)', shape, batch, { activation: 'relu', matmul: true })],
    ['softplus', () => plainVariant('softplus', 'softplus MLP, no penalty', shape, batch, { activation: 'softplus' })],
    ['softplus+igpen', () => plainVariant('softplus+igpen', 'softplus MLP + input-gradient penalty (double backprop)', shape, batch, { activation: 'softplus', penalty: 'igpen' })],
    ['softplus+projection', () => plainVariant('softplus+projection', 'softplus MLP + random-projection Jacobian (1 proj.)', shape, batch, { activation: 'softplus', penalty: 'projection' })],
    ['cr+igpen', () => mlpVariant('cr+igpen', 'ChainzRule MLP + input-gradient penalty (composite, double backprop)', shape, batch, { activation: 'poly', inputGradientPenalty: true })],
  ];
  if (only) {
    const unknown = only.filter((n) => !all.some(([m]) => m === n));
    if (unknown.length > 0) throw new ConfigError(`unknown variant(s) ${unknown.join(', ')}; choose from ${all.map(([m]) => m).join(', ')}`, { option: '--variants' });
  }
  return all.filter(([n]) => !only || only.includes(n)).map(([, make]) => make());
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function median(xs: number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}

async function runStep(v: PerfVariant, sync: boolean): Promise<void> {
  const loss = v.step();
  if (sync) await loss.data();
  loss.dispose();
}

function ratiosOf(med: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, [a, b]] of Object.entries(PERF_RATIOS)) {
    const x = med.get(a);
    const y = med.get(b);
    if (x !== undefined && y !== undefined) out[name] = x / y;
  }
  return out;
}

/** Milliseconds of CPU time (user + system, all threads) used by this process so far. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The primary clock for a backend (`auto`: CPU time on the synchronous cpu/wasm backends, wall time otherwise). */
export function resolveClock(clock: PerfClock, backend: string): 'wall' | 'cpu' {
  if (clock !== 'auto') return clock;
  return backend === 'wasm' || backend === 'cpu' ? 'cpu' : 'wall';
}

async function measureShape(shape: PerfShape, o: Required<Pick<PerfOptions, 'steps' | 'warmup' | 'repeats' | 'chunkMs'>> & PerfOptions & { primary: 'wall' | 'cpu' }): Promise<ShapeResult> {
  const log = o.log ?? (() => {});
  const batch = makeBatch(shape, 7);
  const variants = buildVariants(shape, batch, o.variants);
  const sync = !['wasm', 'cpu'].includes(tf.getBackend());
  try {
    const samples = { wall: new Map<string, number[]>(variants.map((v) => [v.name, []])), cpu: new Map<string, number[]>(variants.map((v) => [v.name, []])) };
    const blockRatios: Array<Record<string, number>> = [];
    const warm: number[] = [];
    for (let w = 0; w < o.warmup; w++) {
      for (const v of variants) {
        const t0 = performance.now();
        await runStep(v, sync);
        if (w > 0) warm.push(performance.now() - t0);
      }
    }
    // steps per sample (the same for every variant): about chunkMs for a typical step; 1 by default
    const typical = warm.length > 0 ? median(warm) : NaN;
    const k = o.chunkMs > 0 && Number.isFinite(typical) && typical > 0 ? Math.max(1, Math.min(100, Math.round(o.chunkMs / typical))) : 1;
    // memory: one profiled step per variant (working memory above what is held before the step)
    const memory: ShapeResult['memory'] = {};
    for (const v of variants) {
      const before = tf.memory().numBytes;
      const info = await tf.profile(() => {
        const loss = v.step();
        loss.dispose();
      });
      memory[v.name] = { stepBytes: Math.max(0, info.peakBytes - before), peakBytes: info.peakBytes };
    }
    const tensorsBefore = tf.memory().numTensors;
    for (let r = 0; r < o.repeats; r++) {
      const block = new Map<string, number[]>(variants.map((v) => [v.name, []]));
      for (let s = 0; s < o.steps; s++) {
        const rot = (r * o.steps + s) % variants.length;
        const order = [...variants.slice(rot), ...variants.slice(0, rot)];
        for (const v of order) {
          const c0 = cpuMs();
          const t0 = performance.now();
          for (let q = 0; q < k; q++) await runStep(v, sync);
          const wall = (performance.now() - t0) / k;
          const cpu = (cpuMs() - c0) / k;
          samples.wall.get(v.name)!.push(wall);
          samples.cpu.get(v.name)!.push(cpu);
          block.get(v.name)!.push(o.primary === 'cpu' ? cpu : wall);
        }
      }
      const med = new Map([...block].map(([n, xs]) => [n, median(xs)]));
      blockRatios.push(ratiosOf(med));
      log(`[perf] ${shape.name} block ${r + 1}/${o.repeats} (${o.primary} time): ${[...med].map(([n, m]) => `${n} ${m.toFixed(2)} ms`).join(', ')}`);
    }
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked !== 0) throw new Error(`perf: ${leaked} tensors leaked over ${o.repeats * o.steps} rounds of ${shape.name}`);
    const stats = (xs0: number[]) => {
      const xs = [...xs0].sort((a, b) => a - b);
      return { medianMs: quantile(xs, 0.5), p25Ms: quantile(xs, 0.25), p75Ms: quantile(xs, 0.75) };
    };
    const timings: VariantTiming[] = variants.map((v) => {
      const main = stats(samples[o.primary].get(v.name)!);
      const other = o.primary === 'cpu' ? 'wall' : 'cpu';
      return { name: v.name, description: v.description, ...main, otherClockMedianMs: stats(samples[other].get(v.name)!).medianMs, samples: samples.wall.get(v.name)!.length, stepsPerSample: k };
    });
    const mm = timings.find((t) => t.name === 'matmul');
    if (mm) for (const t of timings) t.stepVsMatmul = t.medianMs / mm.medianMs;
    const ratios = ratiosOf(new Map(timings.map((t) => [t.name, t.medianMs])));
    const otherRatios = ratiosOf(new Map(timings.map((t) => [t.name, t.otherClockMedianMs])));
    const ratioRanges: Record<string, [number, number]> = {};
    for (const name of Object.keys(ratios)) {
      const vals = blockRatios.map((b) => b[name]).filter((x) => x !== undefined);
      ratioRanges[name] = [Math.min(...vals), Math.max(...vals)];
    }
    const targets: Record<string, boolean> = {};
    for (const [name, t] of Object.entries(PERF_TARGETS[shape.name] ?? {})) {
      if (ratios[name] !== undefined) targets[name] = t.op === '<=' ? ratios[name] <= t.value : ratios[name] >= t.value;
    }
    return { shape, clock: o.primary, variants: timings, ratios, ratioRanges, otherClockRatios: otherRatios, memory, targets };
  } finally {
    for (const v of variants) v.dispose();
    tf.dispose([batch.x, batch.y]);
  }
}

/**
 * Measures training-step costs on the active backend (see the module comment
 * for the method) and returns the report. The caller activates the backend.
 * @throws ConfigError for invalid counts or unknown variant names.
 */
export async function runPerfBench(opts: PerfOptions): Promise<PerfReport> {
  const steps = opts.steps ?? 30;
  const warmup = opts.warmup ?? 5;
  const repeats = opts.repeats ?? 3;
  const chunkMs = opts.chunkMs ?? 0;
  const clock = resolveClock(opts.clock ?? 'auto', opts.backend);
  if (!['auto', 'wall', 'cpu'].includes(opts.clock ?? 'auto')) throw new ConfigError(`must be auto, wall or cpu, got ${opts.clock}`, { option: '--clock' });
  if (!Number.isFinite(chunkMs) || chunkMs < 0) throw new ConfigError(`must be a number ≥ 0, got ${chunkMs}`, { option: '--chunk-ms' });
  for (const [k, v, min] of [
    ['--steps', steps, 1],
    ['--warmup', warmup, 0],
    ['--repeats', repeats, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new ConfigError(`must be an integer ≥ ${min}, got ${v}`, { option: k });
  }
  const t0 = performance.now();
  const shapes: ShapeResult[] = [];
  for (const shape of opts.shapes ?? PERF_SHAPES) shapes.push(await measureShape(shape, { ...opts, steps, warmup, repeats, chunkMs, primary: clock }));
  const environment = collectEnvironment(opts.backend, opts.backendNotes);
  const wallSeconds = (performance.now() - t0) / 1000;
  environment.wallSeconds = wallSeconds;
  return { backend: opts.backend, fusedKernels: hasFusedKernels(), protocol: { steps, warmup, repeats, chunkMs, clock }, shapes, environment, wallSeconds };
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');

/** The human-readable tables (one step-time table and one ratio table per shape). */
export function renderPerfTables(report: PerfReport): string {
  const env = report.environment;
  const parts: string[] = [
    `chainz bench perf — backend ${report.backend} (fused kernels: ${report.fusedKernels ? 'yes' : 'no'}), ${report.protocol.clock === 'cpu' ? 'process CPU time' : 'wall time'} per step, median of ${report.protocol.steps}×${report.protocol.repeats} interleaved samples after ${report.protocol.warmup} warm-up rounds`,
    `CPU: ${env.cpuModel} (${env.cpus} logical cores), Node ${env.node}, tfjs ${env.tfjs}, ${env.platform}`,
  ];
  for (const s of report.shapes) {
    parts.push('', `## ${s.shape.name}: widths ${s.shape.dims.join('→')}, batch ${s.shape.batch}`, '');
    parts.push(
      markdownTable([
        ['variant', `median ms (${s.clock})`, 'p25–p75 ms', `median ms (${s.clock === 'cpu' ? 'wall' : 'cpu'})`, 'stepVsMatmul', 'step memory MB', 'what'],
        ...s.variants.map((v) => [v.name, fmt(v.medianMs), `${fmt(v.p25Ms)}–${fmt(v.p75Ms)}`, fmt(v.otherClockMedianMs), fmt(v.stepVsMatmul ?? NaN), fmt((s.memory[v.name]?.stepBytes ?? NaN) / 2 ** 20), v.description]),
      ]),
    );
    parts.push('');
    parts.push(
      markdownTable([
        ['ratio', `value (${s.clock})`, 'range over blocks', `value (${s.clock === 'cpu' ? 'wall' : 'cpu'})`, 'target', ''],
        ...Object.entries(s.ratios).map(([name, r]) => {
          const t = PERF_TARGETS[s.shape.name]?.[name];
          const [a, b] = PERF_RATIOS[name];
          return [name, fmt(r), `${fmt(s.ratioRanges[name][0])}–${fmt(s.ratioRanges[name][1])}`, fmt(s.otherClockRatios[name]), t ? `${t.op} ${t.value}: ${s.targets[name] ? 'met' : 'missed'}` : '', `${a} / ${b}`];
        }),
      ]),
    );
    const cr = s.memory['cr+dreg'];
    const relu = s.memory.relu;
    if (cr && relu) parts.push('', `memory (peak numBytes of one step above what it started with): cr+dreg ${fmt(cr.stepBytes / 2 ** 20)} MB vs relu ${fmt(relu.stepBytes / 2 ** 20)} MB (×${fmt(cr.stepBytes / relu.stepBytes)})`);
  }
  return parts.join('\n');
}
