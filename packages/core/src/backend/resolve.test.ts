import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError, ConfigError } from '../errors';
import { BACKEND_ORDER, parseBackendPreference, planFor } from './catalog';
import { isModuleNotFound } from './node-webgpu';
import { describeSoftwareAdapter, resolveBackend, type ResolveBackendOptions } from './resolve';

/** An error shaped like Node's for `import('<pkg>')` of a package that is not installed. */
function notInstalled(pkg: string): Error {
  return Object.assign(new Error(`Cannot find package '${pkg}' imported from /app/index.js`), { code: 'ERR_MODULE_NOT_FOUND' });
}

/** Loaders for a machine with no tfjs-node(-gpu), no WebGPU and a broken wasm build. */
function loaders(extra: ResolveBackendOptions['importers'] = {}): ResolveBackendOptions {
  return {
    env: {},
    gpuDevicePresent: () => true,
    installWebGPU: async () => {
      throw new BackendError("Dawn found no WebGPU adapter: the Mesa libraries its OpenGL backend loads are missing: libEGL_mesa.so.0 (libegl-mesa0)");
    },
    importers: {
      '@tensorflow/tfjs-node-gpu': async () => Promise.reject(notInstalled('@tensorflow/tfjs-node-gpu')),
      '@tensorflow/tfjs-node': async () => Promise.reject(notInstalled('@tensorflow/tfjs-node')),
      '@tensorflow/tfjs-backend-webgpu': async () => Promise.reject(notInstalled('@tensorflow/tfjs-backend-webgpu')),
      '@tensorflow/tfjs-backend-wasm': async () => Promise.reject(new Error('WebAssembly.instantiate(): expected magic word 00 61 73 6d')),
      ...extra,
    },
  };
}

afterEach(async () => {
  if (tf.findBackendFactory('tensorflow') != null) tf.removeBackend('tensorflow');
  await tf.setBackend('cpu');
});

describe('parseBackendPreference', () => {
  it('accepts devices and backend names, trimmed and case-insensitive', () => {
    expect(parseBackendPreference(' WebGPU ')).toBe('webgpu');
    expect(parseBackendPreference('tensorflow')).toBe('tensorflow');
    expect(parseBackendPreference('')).toBe('auto');
  });
  it('rejects unknown names with a ConfigError listing the choices', () => {
    expect(() => parseBackendPreference('webgl', '--backend')).toThrow(ConfigError);
    expect(() => parseBackendPreference('webgl', '--backend')).toThrow(/option --backend: unknown backend 'webgl'; expected one of auto, cuda, gpu, webgpu, wasm, cpu, tensorflow/);
  });
});

describe('planFor', () => {
  it('auto tries tensorflow (gpu, then cpu build), webgpu, wasm, cpu', () => {
    const plan = planFor('auto');
    expect(plan.map((s) => s.name)).toEqual([...BACKEND_ORDER]);
    expect(plan[0].sources.map((s) => s.package)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
  });
  it('cuda accepts only tfjs-node-gpu; gpu adds webgpu; explicit names do not fall back', () => {
    expect(planFor('cuda')).toEqual([{ name: 'tensorflow', sources: [{ package: '@tensorflow/tfjs-node-gpu', device: 'cuda' }] }]);
    expect(planFor('gpu').map((s) => s.name)).toEqual(['tensorflow', 'webgpu']);
    expect(planFor('wasm').map((s) => s.name)).toEqual(['wasm']);
  });
});

describe('isModuleNotFound', () => {
  it('recognises the package itself missing, in Node, CommonJS and vite wording', () => {
    expect(isModuleNotFound(notInstalled('webgpu'), 'webgpu')).toBe(true);
    expect(isModuleNotFound(new Error("Cannot find module 'webgpu'\nRequire stack:\n- /a.js"), 'webgpu')).toBe(true);
    expect(isModuleNotFound(new Error('Failed to load url @tensorflow/tfjs-node (resolved id: @tensorflow/tfjs-node)'), '@tensorflow/tfjs-node')).toBe(true);
  });
  it('does not confuse a longer package name, a file inside the package, or another failure', () => {
    expect(isModuleNotFound(notInstalled('@tensorflow/tfjs-node-gpu'), '@tensorflow/tfjs-node')).toBe(false);
    expect(isModuleNotFound(new Error("Cannot find module '/x/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'"), '@tensorflow/tfjs-node')).toBe(false);
    expect(isModuleNotFound(new Error('tfjs_binding.node can not be found'), '@tensorflow/tfjs-node')).toBe(false);
  });
});

describe('resolveBackend', () => {
  it('falls through missing packages and failing initialisations, and says why', async () => {
    const res = await resolveBackend(undefined, loaders({
      // Installed but its native library is broken: the factory throws at initialisation.
      '@tensorflow/tfjs-node': async () => {
        tf.registerBackend('tensorflow', () => {
          throw new Error('libtensorflow.so.2: cannot open shared object file: No such file or directory');
        });
      },
    }));
    expect(res.name).toBe('cpu');
    expect(res.package).toBe('@tensorflow/tfjs-backend-cpu');
    expect(res.device).toBe('cpu');
    expect(res.source).toBe('default');
    expect(tf.getBackend()).toBe('cpu');
    expect(res.skipped).toEqual([
      { name: 'tensorflow', package: '@tensorflow/tfjs-node-gpu', reason: 'not installed' },
      { name: 'tensorflow', package: '@tensorflow/tfjs-node', reason: 'initialisation failed: libtensorflow.so.2: cannot open shared object file: No such file or directory' },
      { name: 'webgpu', reason: expect.stringMatching(/^Node has no WebGPU: Dawn found no WebGPU adapter: .*libegl-mesa0/) },
      { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', reason: 'failed to load: WebAssembly.instantiate(): expected magic word 00 61 73 6d' },
    ]);
    // The failed factory is dropped, so a later package may register 'tensorflow' again.
    expect(tf.findBackendFactory('tensorflow')).toBeNull();
  });

  it('tfjs-node installed without its native binding: says why and how to fix', async () => {
    const res = await resolveBackend('auto', loaders({
      '@tensorflow/tfjs-node': async () => {
        throw new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: /app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node.\nPlease run command ...');
      },
    }));
    expect(res.name).toBe('cpu');
    expect(res.skipped[1]).toEqual({
      name: 'tensorflow',
      package: '@tensorflow/tfjs-node',
      reason:
        'failed to load: The Node.js native addon module (tfjs_binding.node) can not be found at path: /app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node. ' +
        "(the package's install script, which downloads libtensorflow, did not run or failed: allow it — pnpm: onlyBuiltDependencies — and reinstall @tensorflow/tfjs-node)",
    });
  });

  it('captures the reason of an asynchronous initialisation failure', async () => {
    const res = await resolveBackend('auto', loaders({
      '@tensorflow/tfjs-node-gpu': async () => {
        tf.registerBackend('tensorflow', async () => {
          throw new Error('Could not load dynamic library libcudart.so.11.0');
        });
      },
    }));
    expect(res.name).toBe('cpu');
    expect(res.skipped[0]).toEqual({ name: 'tensorflow', package: '@tensorflow/tfjs-node-gpu', reason: 'initialisation failed: Could not load dynamic library libcudart.so.11.0' });
    expect(res.skipped[1]).toEqual({ name: 'tensorflow', package: '@tensorflow/tfjs-node', reason: 'not installed' });
  });

  it('chooses the first backend that initialises (real wasm) and reports the rest as not tried', async () => {
    const opts = loaders();
    delete opts.importers!['@tensorflow/tfjs-backend-wasm'];
    const res = await resolveBackend(undefined, opts);
    expect(res).toMatchObject({ name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', device: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
    expect(res.skipped.at(-1)).toEqual({ name: 'cpu', reason: "not tried: 'wasm' comes first and initialised" });
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(Array.from(await y.data())).toEqual([11]);
    tf.dispose(y);
  });

  it('an unavailable explicit choice is a BackendError listing what is available and how to install the rest', async () => {
    const opts = loaders();
    delete opts.importers!['@tensorflow/tfjs-backend-wasm'];
    const err = await resolveBackend('cuda', opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    const e = err as BackendError;
    expect(e.code).toBe('E_BACKEND');
    expect(e.message).toBe(
      "Backend 'cuda' is not available:\n  - tensorflow (@tensorflow/tfjs-node-gpu): not installed\nAvailable here: wasm, cpu.",
    );
    expect(e.hint).toMatch(/^To install: tensorflow: npm i @tensorflow\/tfjs-node@4\.22\.0 .*webgpu: npm i @tensorflow\/tfjs-backend-webgpu@4\.22\.0.*libegl-mesa0/);
    expect(e.hint).toMatch(/Or choose --backend wasm \/ --backend cpu \(CHAINZ_BACKEND=wasm\)\.$/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('does not fall back from an explicit choice', async () => {
    await expect(resolveBackend('webgpu', loaders())).rejects.toThrow(/^Backend 'webgpu' is not available:\n {2}- webgpu: Node has no WebGPU/);
  });

  it('reads CHAINZ_BACKEND; the argument wins over it', async () => {
    const opts = { ...loaders(), env: { CHAINZ_BACKEND: 'CPU' } };
    const res = await resolveBackend(undefined, opts);
    expect(res).toMatchObject({ name: 'cpu', preference: 'cpu', source: 'env' });
    expect(res.skipped).toEqual([
      { name: 'tensorflow', reason: "not requested (preference 'cpu')" },
      { name: 'webgpu', reason: "not requested (preference 'cpu')" },
      { name: 'wasm', reason: "not requested (preference 'cpu')" },
    ]);
    await expect(resolveBackend('cuda', opts)).rejects.toThrow(/Backend 'cuda' is not available/);
    await expect(resolveBackend(undefined, { ...opts, env: { CHAINZ_BACKEND: 'gpus' } })).rejects.toThrow(/option CHAINZ_BACKEND: unknown backend 'gpus'/);
  });

  it('uses a backend registered by the application when its package cannot be imported here', async () => {
    const res = await resolveBackend('cpu', loaders({ '@tensorflow/tfjs-backend-cpu': async () => Promise.reject(notInstalled('@tensorflow/tfjs-backend-cpu')) }));
    expect(res).toMatchObject({ name: 'cpu', package: null, source: 'argument' });
  });

  it('imports the real packages by default (cpu)', async () => {
    const res = await resolveBackend('cpu', { env: {} });
    expect(res).toMatchObject({ name: 'cpu', package: '@tensorflow/tfjs-backend-cpu' });
  });
});

describe('auto on a machine without a GPU device', () => {
  it('skips webgpu without loading Dawn; asking for webgpu by name still tries it', async () => {
    let installs = 0;
    const opts = loaders();
    const noGpu: ResolveBackendOptions = {
      ...opts,
      gpuDevicePresent: () => false,
      installWebGPU: async () => {
        installs++;
        throw new BackendError('Dawn found no WebGPU adapter');
      },
    };
    const res = await resolveBackend('auto', noGpu);
    expect(res.name).not.toBe('webgpu');
    expect(res.skipped.find((s) => s.name === 'webgpu')?.reason).toMatch(/^no GPU device on this machine .*pass --backend webgpu/);
    expect(installs).toBe(0);
    await expect(resolveBackend('webgpu', noGpu)).rejects.toThrow(BackendError);
    expect(installs).toBe(1);
  });
});

describe('describeSoftwareAdapter', () => {
  it('recognises software rasterisers and fallback adapters, not hardware GPUs', () => {
    expect(describeSoftwareAdapter({ info: { vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } })).toMatch(/llvmpipe/);
    expect(describeSoftwareAdapter({ info: { vendor: 'google', description: 'SwiftShader Device (Subzero)' } })).toMatch(/SwiftShader/);
    expect(describeSoftwareAdapter({ info: {}, isFallbackAdapter: true })).toBe('fallback adapter');
    expect(describeSoftwareAdapter({ info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' } })).toBeUndefined();
    expect(describeSoftwareAdapter(null)).toBeUndefined();
  });
});
