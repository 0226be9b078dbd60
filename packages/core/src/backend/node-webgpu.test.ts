import { afterEach, describe, expect, it } from 'vitest';
import { BackendError } from '../errors';
import { installNodeWebGPU, MESA_APT_COMMAND, missingMesaLibraries, type DawnAdapter } from './node-webgpu';

const g = globalThis as Record<string | symbol, unknown>;

afterEach(() => {
  delete g.navigator;
  delete g[Symbol.for('chainz.nodeWebGPU')];
  delete g[Symbol.for('chainz.nodeWebGPU.gpu')];
  delete g.GPUBufferUsage;
});

/** A fake `webgpu` module whose adapter request resolves to `adapter`; records the options it got. */
function fakeDawn(adapter: DawnAdapter | null, seen: { flags?: string[]; options: Record<string, unknown>[] }) {
  return async () => ({
    globals: { GPUBufferUsage: { STORAGE: 128 } },
    create(flags: string[]) {
      seen.flags = flags;
      return {
        requestAdapter: async (o: Record<string, unknown> = {}) => {
          seen.options.push(o);
          return adapter;
        },
      };
    },
  });
}

const present = (missing: string[]) => (p: string) => p.startsWith('/usr/lib/x86_64-linux-gnu/') && !missing.some((m) => p.endsWith(`/${m}`));

describe('missingMesaLibraries', () => {
  it('lists the libraries not found, with their apt packages', () => {
    expect(missingMesaLibraries({ arch: 'x64', fileExists: present([]) })).toEqual([]);
    expect(missingMesaLibraries({ arch: 'x64', fileExists: present(['libEGL_mesa.so.0', 'dri/swrast_dri.so']) })).toEqual([
      { file: 'libEGL_mesa.so.0', aptPackage: 'libegl-mesa0' },
      { file: 'dri/swrast_dri.so', aptPackage: 'libgl1-mesa-dri' },
    ]);
  });
});

describe('installNodeWebGPU', () => {
  it('installs navigator.gpu with the feature level forced, after probing adapter and device', async () => {
    let destroyed = 0;
    const adapter: DawnAdapter = {
      info: { vendor: 'mesa', architecture: 'llvmpipe', device: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' },
      requestDevice: async () => ({ destroy: () => void destroyed++ }),
    };
    const seen: { flags?: string[]; options: Record<string, unknown>[] } = { options: [] };
    const info = await installNodeWebGPU({ force: true, importDawn: fakeDawn(adapter, seen) });
    expect(info).toMatchObject({ alreadyInstalled: false, dawnFlags: ['backend=opengl'], featureLevel: 'compatibility' });
    expect(info.adapter.description).toBe('llvmpipe (LLVM 15.0.6, 256 bits)');
    expect(seen.flags).toEqual(['backend=opengl']);
    expect(destroyed).toBe(1);
    expect(g.GPUBufferUsage).toEqual({ STORAGE: 128 });
    if (process.platform === 'linux') expect(process.env.EGL_PLATFORM).toBeDefined();

    const nav = g.navigator as { gpu: { requestAdapter(o?: object): Promise<unknown> } };
    expect(await nav.gpu.requestAdapter({ powerPreference: 'high-performance' })).toBe(adapter);
    expect(seen.options.at(-1)).toEqual({ powerPreference: 'high-performance', featureLevel: 'compatibility' });

    // Idempotent: a second call changes nothing.
    const again = await installNodeWebGPU({ importDawn: async () => Promise.reject(new Error('must not load twice')) });
    expect(again.alreadyInstalled).toBe(true);
  });

  it('no adapter and missing Mesa libraries: a BackendError naming the apt packages', async () => {
    const err = await installNodeWebGPU({
      force: true,
      importDawn: fakeDawn(null, { options: [] }),
      fileExists: (p) => !p.includes('libEGL_mesa') && !p.includes('libGLESv2'),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    const e = err as BackendError;
    if (process.platform === 'linux') {
      expect(e.message).toBe('Dawn found no WebGPU adapter: the Mesa libraries its OpenGL backend loads are missing: libEGL_mesa.so.0 (libegl-mesa0), libGLESv2.so.2 (libgles2)');
      expect(e.hint).toBe(`Install them: sudo apt-get install -y --no-install-recommends libegl-mesa0 libgles2   (all four: ${MESA_APT_COMMAND})`);
    }
    expect(g.navigator).toBeUndefined();
  });

  it('no adapter although the libraries are there: says so and points at stderr', async () => {
    const err = await installNodeWebGPU({ force: true, importDawn: fakeDawn(null, { options: [] }), fileExists: () => true }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^Dawn found no WebGPU adapter \(flags \["backend=opengl"\], featureLevel 'compatibility', EGL_PLATFORM=.*\); Dawn printed its own reason on stderr$/);
  });

  it('the webgpu package missing: a BackendError with the npm command', async () => {
    const missing = Object.assign(new Error("Cannot find package 'webgpu' imported from /app/x.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    const err = await installNodeWebGPU({ force: true, importDawn: async () => Promise.reject(missing) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).message).toBe("WebGPU in Node needs the npm package 'webgpu' (Dawn), which is not installed");
    expect((err as BackendError).hint).toMatch(/^npm i webgpu@0\.6\.2 /);
  });
});
