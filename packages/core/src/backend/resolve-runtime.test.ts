import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveBackend } from './resolve';

/** How `import('<bare name>')` fails in a page without an import map. */
const unresolvable = (pkg: string) => async () => Promise.reject(new TypeError(`Failed to resolve module specifier "${pkg}"`));

describe('resolveBackend outside Node (a browser page)', () => {
  afterEach(async () => {
    vi.unstubAllGlobals();
    await tf.setBackend('cpu');
  });

  it('skips tensorflow as Node-only, a software WebGPU adapter with a non-CLI hint, and uses the page-registered cpu backend', async () => {
    vi.stubGlobal('process', undefined);
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => ({ info: { vendor: 'google', architecture: 'swiftshader' } }) } });
    const res = await resolveBackend('auto', {
      env: {},
      tf,
      importers: {
        '@tensorflow/tfjs-node-gpu': unresolvable('@tensorflow/tfjs-node-gpu'),
        '@tensorflow/tfjs-node': unresolvable('@tensorflow/tfjs-node'),
        '@tensorflow/tfjs-backend-webgpu': unresolvable('@tensorflow/tfjs-backend-webgpu'),
        '@tensorflow/tfjs-backend-wasm': unresolvable('@tensorflow/tfjs-backend-wasm'),
        '@tensorflow/tfjs-backend-cpu': unresolvable('@tensorflow/tfjs-backend-cpu'),
      },
    });
    vi.unstubAllGlobals();
    expect(res.name).toBe('cpu');
    expect(res.package).toBeNull();
    expect(res.skipped.filter((s) => s.name === 'tensorflow')).toEqual([{ name: 'tensorflow', reason: 'Node.js only (tfjs-node binds the native TensorFlow library)' }]);
    expect(res.skipped.find((s) => s.name === 'webgpu')?.reason).toBe(
      "software WebGPU adapter (google swiftshader): much slower than wasm here; ask for 'webgpu' by name to use it anyway",
    );
    expect(res.skipped.find((s) => s.name === 'wasm')?.reason).toBe('not installed');
  });
});
