/**
 * WebGPU in Node.js without a GPU: Dawn from the npm package `webgpu` on
 * Mesa's OpenGL driver (llvmpipe). See docs/backends.md and PLATFORM.md.
 *
 * `@tensorflow/tfjs-backend-webgpu` registers its backend at import time and
 * only when `navigator.gpu` exists, so {@link installNodeWebGPU} must run
 * BEFORE that package is first imported in the process.
 */
import { BackendError } from '../errors';
import { processEnv, runtimeInfo } from './runtime';

/** The part of the npm `webgpu` package (0.6.x) used here. */
export interface DawnModule {
  /** Creates a `GPU` object; flags are Dawn toggles such as `backend=opengl`. */
  create(flags: string[]): DawnGPU;
  /** WebGPU constants (`GPUBufferUsage`, `GPUShaderStage`, …) to copy onto `globalThis`. */
  globals: Record<string, unknown>;
}

/** Minimal `GPU` (navigator.gpu) shape. */
export interface DawnGPU {
  requestAdapter(options?: Record<string, unknown>): Promise<DawnAdapter | null>;
  getPreferredCanvasFormat?(): string;
  readonly wgslLanguageFeatures?: unknown;
}

/** Minimal `GPUAdapter` shape. */
export interface DawnAdapter {
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  requestDevice(descriptor?: Record<string, unknown>): Promise<{ destroy(): void }>;
}

/** A system library Dawn's OpenGL backend needs, and the Debian package that ships it. */
export interface SystemLibrary {
  /** File name, e.g. `libEGL.so.1` or `dri/swrast_dri.so`. */
  readonly file: string;
  /** Debian / Ubuntu package, e.g. `libegl1`. */
  readonly aptPackage: string;
}

/** The Mesa libraries Dawn's OpenGL backend loads, with their Debian packages. */
export const MESA_LIBRARIES: readonly SystemLibrary[] = Object.freeze([
  { file: 'libEGL.so.1', aptPackage: 'libegl1' },
  { file: 'libEGL_mesa.so.0', aptPackage: 'libegl-mesa0' },
  { file: 'dri/swrast_dri.so', aptPackage: 'libgl1-mesa-dri' },
  { file: 'libGLESv2.so.2', aptPackage: 'libgles2' },
]);

/** The apt command that installs {@link MESA_LIBRARIES}. */
export const MESA_APT_COMMAND = `apt-get install -y --no-install-recommends ${MESA_LIBRARIES.map((l) => l.aptPackage).join(' ')}`;

/** Options of {@link installNodeWebGPU}. */
export interface NodeWebGPUOptions {
  /** Dawn toggles passed to `create()`. Default `['backend=opengl']` (Mesa llvmpipe; Dawn rejects Mesa's CPU Vulkan driver). */
  dawnFlags?: string[];
  /** Feature level requested for every adapter. Default `'compatibility'` (what Dawn's OpenGL backend offers). */
  featureLevel?: 'compatibility' | 'core';
  /** Value for `EGL_PLATFORM` when it is unset (Linux only). Default `'surfaceless'` (no display needed). */
  eglPlatform?: string;
  /** Install again even if `navigator.gpu` already exists. Default false. */
  force?: boolean;
  /** Loads the `webgpu` package. Default `import('webgpu')`; tests inject fakes. */
  importDawn?: () => Promise<unknown>;
  /** File test used to diagnose missing Mesa libraries. Default `fs.existsSync`. */
  fileExists?: (path: string) => boolean;
}

/** What {@link installNodeWebGPU} set up. */
export interface NodeWebGPUInfo {
  /** True when `navigator.gpu` already existed and nothing was changed. */
  readonly alreadyInstalled: boolean;
  /** Adapter description reported by Dawn (empty strings when unknown). */
  readonly adapter: { vendor: string; architecture: string; device: string; description: string };
  /** Dawn toggles used. */
  readonly dawnFlags: readonly string[];
  /** Feature level forced on every `requestAdapter`. */
  readonly featureLevel: 'compatibility' | 'core';
  /** `EGL_PLATFORM` in effect (undefined off Linux or when unset). */
  readonly eglPlatform: string | undefined;
}

const STATE = Symbol.for('chainz.nodeWebGPU');

/**
 * Makes WebGPU available in Node.js: loads Dawn from the npm `webgpu`
 * package, copies its WebGPU constants onto `globalThis`, checks that an
 * adapter and a device can be created, and installs `navigator.gpu` (every
 * `requestAdapter` call gets `featureLevel`). Idempotent.
 *
 * Call it before the first import of `@tensorflow/tfjs-backend-webgpu`
 * (`resolveBackend('webgpu')` does this for you).
 *
 * @param options see {@link NodeWebGPUOptions}.
 * @returns the adapter found and the settings used.
 * @throws BackendError outside Node; when `webgpu` is not installed or fails
 *   to load; when Dawn finds no adapter — naming the missing Mesa libraries
 *   and their apt packages when that is the cause.
 */
export async function installNodeWebGPU(options: NodeWebGPUOptions = {}): Promise<NodeWebGPUInfo> {
  const rt = runtimeInfo();
  const g = globalThis as Record<string | symbol, unknown> & { navigator?: { gpu?: unknown } };
  const previous = g[STATE] as NodeWebGPUInfo | undefined;
  if (!options.force && previous) return { ...previous, alreadyInstalled: true };
  if (!rt.isNode) {
    throw new BackendError('installNodeWebGPU() is for Node.js; browsers provide navigator.gpu themselves', 'In a browser, enable WebGPU (Chromium: --enable-unsafe-webgpu where it is not on by default).');
  }
  const dawnFlags = options.dawnFlags ?? ['backend=opengl'];
  const featureLevel = options.featureLevel ?? 'compatibility';
  if (!options.force && g.navigator?.gpu != null) {
    return { alreadyInstalled: true, adapter: { vendor: '', architecture: '', device: '', description: '' }, dawnFlags, featureLevel, eglPlatform: processEnv().EGL_PLATFORM };
  }

  const env = processEnv();
  if (rt.platform === 'linux' && env.EGL_PLATFORM === undefined) env.EGL_PLATFORM = options.eglPlatform ?? 'surfaceless';

  let dawn: DawnModule;
  try {
    const mod = (await (options.importDawn ?? (() => import(/* @vite-ignore */ DAWN_PACKAGE)))()) as DawnModule & { default?: DawnModule };
    dawn = typeof mod.create === 'function' ? mod : (mod.default as DawnModule);
    if (typeof dawn?.create !== 'function') throw new Error("the module has no create() export");
  } catch (e) {
    if (isModuleNotFound(e, DAWN_PACKAGE)) {
      throw new BackendError("WebGPU in Node needs the npm package 'webgpu' (Dawn), which is not installed", 'npm i webgpu@0.6.2 (prebuilt Dawn, no build step); without a GPU also: ' + MESA_APT_COMMAND, { cause: e });
    }
    throw new BackendError(`the npm package 'webgpu' failed to load on ${rt.platform}-${rt.arch}: ${errorMessage(e)}`, 'webgpu@0.6.2 ships prebuilt Dawn for linux-x64/arm64, darwin and win32 only.', { cause: e });
  }

  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create(dawnFlags);
  const adapter = await gpu.requestAdapter({ featureLevel });
  if (adapter == null) {
    const missing = rt.platform === 'linux' && dawnFlags.includes('backend=opengl') ? missingMesaLibraries({ fileExists: options.fileExists }) : [];
    if (missing.length > 0) {
      const pkgs = [...new Set(missing.map((m) => m.aptPackage))];
      throw new BackendError(
        `Dawn found no WebGPU adapter: the Mesa libraries its OpenGL backend loads are missing: ${missing.map((m) => `${m.file} (${m.aptPackage})`).join(', ')}`,
        `Install them: sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}   (all four: ${MESA_APT_COMMAND})`,
      );
    }
    throw new BackendError(
      `Dawn found no WebGPU adapter (flags ${JSON.stringify(dawnFlags)}, featureLevel '${featureLevel}', EGL_PLATFORM=${env.EGL_PLATFORM ?? 'unset'}); Dawn printed its own reason on stderr`,
      `Without a GPU: ${MESA_APT_COMMAND}, and EGL_PLATFORM=surfaceless (or unset, so installNodeWebGPU sets it).`,
    );
  }
  try {
    const device = await adapter.requestDevice();
    device.destroy();
  } catch (e) {
    throw new BackendError(`Dawn found a WebGPU adapter but could not create a device: ${errorMessage(e)}`, undefined, { cause: e });
  }

  const shim = {
    requestAdapter: (o: Record<string, unknown> = {}) => gpu.requestAdapter({ ...o, featureLevel }),
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat?.() ?? 'rgba8unorm',
    get wgslLanguageFeatures() {
      return gpu.wgslLanguageFeatures;
    },
  };
  defineNavigatorGpu(shim);

  const i = adapter.info ?? {};
  const info: NodeWebGPUInfo = {
    alreadyInstalled: false,
    adapter: { vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '' },
    dawnFlags: [...dawnFlags],
    featureLevel,
    eglPlatform: env.EGL_PLATFORM,
  };
  // Keep Dawn's GPU object reachable for the life of the process.
  Object.defineProperty(g, STATE, { value: info, configurable: true });
  Object.defineProperty(g, Symbol.for('chainz.nodeWebGPU.gpu'), { value: gpu, configurable: true });
  return info;
}

/**
 * Lists the Mesa libraries ({@link MESA_LIBRARIES}) that cannot be found in
 * `LD_LIBRARY_PATH` or the usual Linux library folders.
 * @param options.fileExists file test (default `fs.existsSync`); injectable for tests.
 * @param options.arch `process.arch` to pick the multiarch folder (default: this process).
 */
export function missingMesaLibraries(options: { fileExists?: (path: string) => boolean; arch?: string } = {}): SystemLibrary[] {
  const fileExists = options.fileExists ?? defaultFileExists();
  const triplet = ({ x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' } as Record<string, string>)[options.arch ?? runtimeInfo().arch] ?? '';
  const dirs = [
    ...(processEnv().LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    ...(triplet ? [`/usr/lib/${triplet}`, `/lib/${triplet}`] : []),
    '/usr/lib64',
    '/usr/lib',
    '/lib64',
    '/lib',
  ];
  return MESA_LIBRARIES.filter((lib) => !dirs.some((d) => fileExists(`${d}/${lib.file}`)));
}

const DAWN_PACKAGE = 'webgpu';

function defaultFileExists(): (path: string) => boolean {
  // `process.getBuiltinModule` is Node ≥ 20.16; fall back to "unknown" (no diagnosis) before that.
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = p?.getBuiltinModule?.('node:fs') as { existsSync(path: string): boolean } | undefined;
  return fs ? (path) => fs.existsSync(path) : () => true;
}

function defineNavigatorGpu(gpu: unknown): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator != null) {
    try {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, enumerable: true, writable: true });
      return;
    } catch {
      // Non-extensible navigator (some runtimes): replace the whole object below.
    }
  }
  Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu }, configurable: true, enumerable: true, writable: true });
}

/**
 * True when `e` says that the package `pkg` itself could not be found (not a
 * file inside it, not one of its dependencies).
 */
export function isModuleNotFound(e: unknown, pkg: string): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  const msg = errorMessage(e);
  const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to (resolve|load url)|Failed to fetch dynamically imported module/i.test(msg);
  const esc = pkg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return notFound && new RegExp(`(^|[\\s'"\`])${esc}(?![\\w./-])`).test(msg);
}

/** The message of an error-like value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
