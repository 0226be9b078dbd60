// Set-up for the `webgpu` vitest project (files `*.webgpu.test.ts`): WebGPU in
// Node through Dawn (npm `webgpu`) on Mesa's OpenGL, via the same
// `resolveBackend('webgpu')` users call. The cpu backend stays registered as
// the reference. If WebGPU cannot initialise, every webgpu test file FAILS
// with the reason; only outside CI may a developer opt out with
// CHAINZ_SKIP_WEBGPU=1 (then `describeBackends(['webgpu'], …)` suites are
// reported as skipped).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { resolveBackend } from '@chainz/core';

const optOut = process.env.CHAINZ_SKIP_WEBGPU === '1';
const inCI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

if (optOut && !inCI) {
  console.warn('[webgpu tests] CHAINZ_SKIP_WEBGPU=1: WebGPU not set up; webgpu suites are skipped.');
} else {
  if (optOut) console.warn('[webgpu tests] CHAINZ_SKIP_WEBGPU=1 is ignored in CI (CI is set): the webgpu tests must run.');
  try {
    await resolveBackend('webgpu', { env: {} });
  } catch (e) {
    const hint = (e as { hint?: string }).hint;
    throw new Error(
      `[webgpu tests] WebGPU could not be initialised in Node: ${(e as Error).message}` +
        (hint ? `\nhint: ${hint}` : '') +
        '\nThese tests need the Debian packages libegl1 libegl-mesa0 libgl1-mesa-dri libgles2 (.ci/run installs them).' +
        ' Outside CI you may skip them with CHAINZ_SKIP_WEBGPU=1.',
      { cause: e },
    );
  }
  // Exact comparisons: never hand small tensors over to the cpu backend.
  tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
}
await tf.setBackend('cpu');
await tf.ready();
