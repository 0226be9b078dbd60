// Browser test page (bundled by scripts/browser/run.mjs, run in headless
// Chromium): trains the model of ./model.ts on the webgpu backend and on the
// cpu backend from the same seed and data, and reports the losses. Results go
// to `window.__chainzResults` for the runner.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import { Rng, resolveBackend } from '@chainz/core';
import { MODEL_NAME, SHAPE, initParams, loss, variables } from './model';

interface TestResult {
  name: string;
  ok: boolean;
  detail: string;
}
interface PageReport {
  results: TestResult[];
  info: Record<string, unknown>;
}
declare global {
  interface Window {
    __chainzResults?: PageReport;
  }
}

const STEPS = 15;
const BATCH = 64;
const SEED = 7;

/** Three Gaussian clusters in SHAPE.inputs dimensions, seeded. */
function makeData(seed: number): { x: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const { inputs, classes } = SHAPE;
  const centres = Array.from({ length: classes }, () => Array.from({ length: inputs }, () => rng.normal()));
  const x = new Float32Array(BATCH * inputs);
  const labels = new Int32Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    const c = rng.int(classes);
    labels[i] = c;
    for (let j = 0; j < inputs; j++) x[i * inputs + j] = centres[c][j] + rng.normal();
  }
  return { x, labels };
}

/** Trains STEPS full-batch Adam steps on the active backend; returns the loss of every step and the kernels of one step. */
async function train(): Promise<{ losses: number[]; leaked: number; firstStepMs: number; kernels: string[] }> {
  const before = tf.memory().numTensors;
  const data = makeData(SEED);
  const x = tf.tensor2d(data.x, [BATCH, SHAPE.inputs]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(data.labels, 'int32'), SHAPE.classes));
  const params = initParams(SEED);
  const opt = tf.train.adam(0.02);
  const losses: number[] = [];
  let firstStepMs = 0;
  for (let s = 0; s < STEPS; s++) {
    const t = performance.now();
    const cost = opt.minimize(() => loss(params, x, y, s), true, variables(params)) as tf.Scalar;
    losses.push((await cost.data())[0]);
    cost.dispose();
    if (s === 0) firstStepMs = Math.round(performance.now() - t);
  }
  // which kernels one more step runs (e.g. the fused polynomial kernels), without changing the losses above
  const profile = await tf.profile(() => tf.dispose(tf.variableGrads(() => loss(params, x, y, STEPS), variables(params)) as unknown as tf.TensorContainer));
  opt.dispose();
  tf.dispose([x, y, ...variables(params)]);
  return { losses, leaked: tf.memory().numTensors - before, firstStepMs, kernels: [...new Set(profile.kernels.map((k) => k.name))] };
}

function maxRelDiff(a: number[], b: number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.max(1, Math.abs(b[i]))));
}

async function main(): Promise<PageReport> {
  const results: TestResult[] = [];
  const info: Record<string, unknown> = { model: MODEL_NAME, steps: STEPS, batch: BATCH, userAgent: navigator.userAgent };
  const check = (name: string, ok: boolean, detail: string) => results.push({ name, ok, detail });

  type AdapterLike = { info?: Record<string, string> } | null;
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<AdapterLike> } }).gpu;
  const adapter = gpu ? await gpu.requestAdapter() : null;
  info.adapter = adapter?.info ? { vendor: adapter.info.vendor, architecture: adapter.info.architecture, description: adapter.info.description } : null;
  check('navigator.gpu gives an adapter', adapter != null, adapter ? JSON.stringify(info.adapter) : 'navigator.gpu missing or requestAdapter() returned null');

  let gpuRun: Awaited<ReturnType<typeof train>> | undefined;
  try {
    const res = await resolveBackend('webgpu', { env: {} });
    tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
    check("resolveBackend('webgpu') activates webgpu", res.name === 'webgpu' && tf.getBackend() === 'webgpu', `name=${res.name} package=${res.package} active=${tf.getBackend()}`);
    const t0 = performance.now();
    gpuRun = await train();
    info.webgpuMs = Math.round(performance.now() - t0);
    info.webgpuFirstStepMs = gpuRun.firstStepMs;
    info.webgpuLosses = gpuRun.losses;
  } catch (e) {
    check("resolveBackend('webgpu') activates webgpu", false, String((e as Error)?.message ?? e));
  }

  await resolveBackend('cpu', { env: {} });
  const t1 = performance.now();
  const cpuRun = await train();
  info.cpuMs = Math.round(performance.now() - t1);
  info.cpuLosses = cpuRun.losses;

  const first = cpuRun.losses[0];
  const last = cpuRun.losses[STEPS - 1];
  check('cpu: training lowers the loss', last < 0.7 * first, `loss ${first.toFixed(4)} → ${last.toFixed(4)}`);
  if (gpuRun) {
    const g0 = gpuRun.losses[0];
    const g1 = gpuRun.losses[STEPS - 1];
    check('webgpu: training lowers the loss', g1 < 0.7 * g0, `loss ${g0.toFixed(4)} → ${g1.toFixed(4)}`);
    const d = maxRelDiff(gpuRun.losses, cpuRun.losses);
    check('webgpu losses match cpu (max rel diff < 1e-4 over all steps)', d < 1e-4, `max rel diff ${d.toExponential(2)}`);
    check('webgpu: no tensor leak', gpuRun.leaked === 0, `${gpuRun.leaked} tensors leaked`);
    const fused = gpuRun.kernels.filter((k) => k.startsWith('ChainzPoly'));
    info.webgpuChainzKernels = fused;
    check('webgpu: the fused ChainzRule kernels (WGSL) ran', fused.some((k) => k.startsWith('ChainzPolyActivationJacobian')) && fused.includes('ChainzPolyActivationGrad'), fused.join(', ') || 'none');
  }
  check('cpu: no tensor leak', cpuRun.leaked === 0, `${cpuRun.leaked} tensors leaked`);
  return { results, info };
}

main()
  .then((report) => {
    window.__chainzResults = report;
  })
  .catch((e: unknown) => {
    window.__chainzResults = { results: [{ name: 'page ran to the end', ok: false, detail: String((e as Error)?.stack ?? e) }], info: {} };
  });
