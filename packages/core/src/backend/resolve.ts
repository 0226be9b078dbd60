/**
 * Backend resolution (docs/backends.md): try `tensorflow` (tfjs-node-gpu, then
 * tfjs-node) → `webgpu` → `wasm` → `cpu`, each only if its package is
 * installed and the backend initialises; report why every other one was
 * skipped. Backend packages are optional peers loaded with `import()`.
 */
import type * as TF from '@tensorflow/tfjs-core';
import { BackendError } from '../errors';
import {
  BACKEND_ORDER,
  BACKEND_SOURCES,
  installHints,
  parseBackendPreference,
  planFor,
  type BackendName,
  type BackendPackage,
  type BackendPreference,
  type BackendSource,
} from './catalog';
import { errorMessage, installNodeWebGPU, isModuleNotFound } from './node-webgpu';
import { processEnv, runtimeInfo } from './runtime';

/** The tfjs-core module (`import * as tf from '@tensorflow/tfjs-core'`). */
export type TfModule = typeof TF;

/** Loads one package; resolves to its module or rejects like `import()`. */
export type PackageImporter = () => Promise<unknown>;

/** Why a backend (or one of its packages) was not chosen. */
export interface SkippedBackend {
  /** tfjs backend name. */
  readonly name: BackendName;
  /** The package tried, when the reason is about one package. */
  readonly package?: BackendPackage;
  /** Human-readable reason, e.g. `not installed`, or the initialisation error. */
  readonly reason: string;
}

/** Result of {@link resolveBackend}. */
export interface BackendResolution {
  /** The tfjs backend now active (`tf.getBackend()`). */
  readonly name: BackendName;
  /**
   * npm package that provides it; `null` when the backend was already
   * registered (e.g. bundled into a browser page) and its package cannot be
   * imported from here.
   */
  readonly package: BackendPackage | null;
  /** Where the computation runs: `cuda` (tfjs-node-gpu), `cpu` (tfjs-node or the cpu backend), `webgpu` or `wasm`. */
  readonly device: BackendSource['device'];
  /** The preference that was applied. */
  readonly preference: BackendPreference;
  /** Where the preference came from: the argument, `CHAINZ_BACKEND`, or the default `auto`. */
  readonly source: 'argument' | 'env' | 'default';
  /** Every other backend, with the reason it was not chosen (one entry per package tried). */
  readonly skipped: readonly SkippedBackend[];
}

/** Options of {@link resolveBackend}. */
export interface ResolveBackendOptions {
  /** Environment to read `CHAINZ_BACKEND` from. Default `process.env` (empty in a browser). */
  env?: Record<string, string | undefined>;
  /** The tfjs-core module to configure. Default `await import('@tensorflow/tfjs-core')`. */
  tf?: TfModule;
  /**
   * Package loaders by name, replacing `import(name)`: lets a test simulate a
   * missing package (reject with `ERR_MODULE_NOT_FOUND`) or a backend whose
   * initialisation fails (register a factory that throws). The key `webgpu`
   * loads Dawn for {@link installNodeWebGPU}.
   */
  importers?: Partial<Record<BackendPackage | 'webgpu', PackageImporter>>;
  /**
   * Makes `navigator.gpu` available in Node before the webgpu backend is
   * imported. Default {@link installNodeWebGPU} (with `importers.webgpu`).
   */
  installWebGPU?: () => Promise<unknown>;
  /**
   * Whether the machine has a GPU device at all; consulted only when `auto` /
   * `gpu` would load Dawn in Node. Without one, WebGPU could only run on a
   * software adapter, so it is skipped without loading Dawn (which also keeps
   * Dawn's start-up warnings off the terminal). Default {@link hasGpuDeviceNode}.
   */
  gpuDevicePresent?: () => boolean;
}

/**
 * Chooses, initialises and activates a tfjs backend.
 *
 * Order for `auto`: `tensorflow` (`@tensorflow/tfjs-node-gpu`, then
 * `@tensorflow/tfjs-node`) → `webgpu` → `wasm` → `cpu`. `gpu` tries
 * tfjs-node-gpu then webgpu; every other preference names one backend and
 * does not fall back. A backend counts only if its package imports, registers
 * the backend in this tfjs-core, and `await tf.setBackend(name)` succeeds;
 * then `await tf.ready()`. Initialisation errors (which tfjs only logs as
 * warnings) are captured into the reasons. In Node, `webgpu` first runs
 * {@link installNodeWebGPU} when `navigator.gpu` is missing. A backend that the
 * application registered itself (e.g. bundled in a page) is used as is.
 *
 * @param preference device or backend; default `CHAINZ_BACKEND` from the
 *   environment, else `auto`. The argument (e.g. the CLI's `--backend`) wins
 *   over the variable.
 * @param options see {@link ResolveBackendOptions}.
 * @returns the backend chosen, its package and device, and why each other one was skipped.
 * @throws ConfigError for an unknown preference (from the argument or `CHAINZ_BACKEND`).
 * @throws BackendError when no allowed backend initialises: lists each
 *   failure, the backends that are available here, and how to install the rest.
 *   (To find what is available, the other backends' packages are imported —
 *   and in Node, WebGPU is set up — but not initialised.)
 */
export async function resolveBackend(preference?: BackendPreference | (string & {}), options: ResolveBackendOptions = {}): Promise<BackendResolution> {
  const env = options.env ?? processEnv();
  let pref: BackendPreference;
  let source: BackendResolution['source'];
  if (preference !== undefined && preference !== '') {
    pref = parseBackendPreference(preference, 'backend');
    source = 'argument';
  } else if (env.CHAINZ_BACKEND !== undefined && env.CHAINZ_BACKEND.trim() !== '') {
    pref = parseBackendPreference(env.CHAINZ_BACKEND, 'CHAINZ_BACKEND');
    source = 'env';
  } else {
    pref = 'auto';
    source = 'default';
  }

  const tf = options.tf ?? ((await import('@tensorflow/tfjs-core')) as TfModule);
  const ctx = new Attempts(tf, options, pref);
  const plan = planFor(pref);
  const skipped: SkippedBackend[] = [];

  for (const [i, step] of plan.entries()) {
    const result = await ctx.activate(step.name, step.sources);
    if (result.ok) {
      const later = new Set(plan.slice(i + 1).map((s) => s.name));
      for (const name of BACKEND_ORDER) {
        if (name === step.name || skipped.some((s) => s.name === name)) continue;
        skipped.push({
          name,
          reason: later.has(name) ? `not tried: '${step.name}' comes first and initialised` : `not requested (preference '${pref}')`,
        });
      }
      return Object.freeze({ name: step.name, package: result.package, device: result.device, preference: pref, source, skipped: Object.freeze(skipped) });
    }
    skipped.push(...result.failures);
  }

  // Nothing allowed worked: say what is available instead and how to install the rest.
  const available: BackendName[] = [];
  const planned = new Set(plan.map((s) => s.name));
  for (const name of BACKEND_ORDER) {
    if (planned.has(name)) continue;
    if (await ctx.isAvailable(name)) available.push(name);
  }
  const hints = installHints(tf.version_core);
  const what = pref === 'auto' ? 'No tfjs backend could be initialised' : `Backend '${pref}' is not available`;
  const lines = skipped.map((s) => `  - ${s.name}${s.package ? ` (${s.package})` : ''}: ${s.reason}`);
  const missing = BACKEND_ORDER.filter((n) => !available.includes(n));
  throw new BackendError(
    `${what}:\n${lines.join('\n')}\nAvailable here: ${available.length > 0 ? available.join(', ') : 'none'}.`,
    `To install: ${missing.map((n) => `${n}: ${hints[n]}`).join('; ')}.` + (available.length > 0 ? ` Or choose ${available.map((a) => `--backend ${a}`).join(' / ')} (CHAINZ_BACKEND=${available[0]}).` : ''),
  );
}

type Activation = { ok: true; package: BackendPackage | null; device: BackendSource['device'] } | { ok: false; failures: SkippedBackend[] };

/** One resolution's state: the tfjs module, loaders, and which packages were imported. */
class Attempts {
  constructor(
    private readonly tf: TfModule,
    private readonly options: ResolveBackendOptions,
    private readonly pref: BackendPreference = 'auto',
  ) {}

  /** Tries each source of a backend in order; activates the first that initialises. */
  async activate(name: BackendName, sources: readonly BackendSource[]): Promise<Activation> {
    const failures: SkippedBackend[] = [];
    const pre = await this.prepare(name);
    if (pre !== undefined) return { ok: false, failures: [{ name, reason: pre }] };
    for (const src of sources) {
      const registeredBefore = this.tf.findBackendFactory(name) != null;
      const loaded = await this.load(src.package);
      // A backend the application registered itself (bundled in a page) is used even when its
      // package cannot be imported from here — except 'tensorflow', whose package decides the device.
      if (!loaded.ok && !(registeredBefore && name !== 'tensorflow')) {
        failures.push({ name, package: src.package, reason: loaded.reason });
        continue;
      }
      if (this.tf.findBackendFactory(name) == null) {
        failures.push({ name, package: src.package, reason: this.notRegisteredReason(name, src.package) });
        continue;
      }
      const init = await this.init(name);
      if (init === undefined) return { ok: true, package: loaded.ok ? src.package : null, device: src.device };
      failures.push({ name, package: src.package, reason: init });
      // tfjs-node and tfjs-node-gpu share the name 'tensorflow' and registerBackend never
      // overwrites: drop the failed factory so that the next package can register its own.
      if (name === 'tensorflow') this.tf.removeBackend(name);
    }
    return { ok: false, failures };
  }

  /** True when the backend's package imports and registers it (not initialised). */
  async isAvailable(name: BackendName): Promise<boolean> {
    if (name === 'webgpu' && runtimeInfo().isNode && !runtimeInfo().webgpu) {
      // Listing only: Dawn must import, but no GPU instance is created (that is
      // for an actual request, and prints Dawn's adapter warnings).
      try {
        await (this.options.importers?.webgpu ?? (() => importPackage('webgpu')))();
      } catch {
        return false;
      }
    } else if ((await this.prepare(name)) !== undefined) return false;
    for (const src of BACKEND_SOURCES[name]) {
      await this.load(src.package);
      if (this.tf.findBackendFactory(name) != null) return true;
    }
    return false;
  }

  /** Pre-conditions before importing a backend's package; returns a reason to skip, or undefined. */
  private async prepare(name: BackendName): Promise<string | undefined> {
    if (name === 'tensorflow' && !runtimeInfo().isNode) return 'Node.js only (tfjs-node binds the native TensorFlow library)';
    if (name !== 'webgpu') return undefined;
    const software = () => this.softwareAdapterReason();
    if (this.tf.findBackendFactory('webgpu') != null) return software();
    const rt = runtimeInfo();
    if (rt.webgpu) return software();
    if (!rt.isNode) return 'this runtime has no navigator.gpu (WebGPU unsupported or disabled)';
    if ((this.pref === 'auto' || this.pref === 'gpu') && !(this.options.gpuDevicePresent ?? hasGpuDeviceNode)()) {
      return 'no GPU device on this machine (no /dev/dri/renderD*, /dev/nvidia0 or /dev/dxg): WebGPU could only use a software adapter, much slower than wasm; pass --backend webgpu (CHAINZ_BACKEND=webgpu) to use it anyway';
    }
    try {
      const install =
        this.options.installWebGPU ?? (() => installNodeWebGPU({ importDawn: this.options.importers?.webgpu }));
      await install();
    } catch (e) {
      const hint = (e as { hint?: string }).hint;
      return `Node has no WebGPU: ${errorMessage(e)}${hint ? ` (${hint})` : ''}`;
    }
    return software();
  }

  /**
   * When WebGPU was reached by fallback (`auto` / `gpu`), a software adapter
   * (Mesa llvmpipe/lavapipe, SwiftShader, a fallback adapter) is skipped: it is
   * a correctness path, far slower than wasm. Asking for `webgpu` by name uses it.
   */
  private async softwareAdapterReason(): Promise<string | undefined> {
    if (this.pref !== 'auto' && this.pref !== 'gpu') return undefined;
    const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(o?: unknown): Promise<unknown> } } }).navigator?.gpu;
    if (!gpu) return undefined;
    let adapter: { info?: Record<string, string | undefined>; isFallbackAdapter?: boolean } | null = null;
    try {
      adapter = (await gpu.requestAdapter()) as typeof adapter;
    } catch {
      return undefined;
    }
    const desc = describeSoftwareAdapter(adapter);
    if (!desc) return undefined;
    const how = runtimeInfo().isNode ? 'pass --backend webgpu (CHAINZ_BACKEND=webgpu)' : "ask for 'webgpu' by name";
    return `software WebGPU adapter (${desc}): much slower than wasm here; ${how} to use it anyway`;
  }

  private async load(pkg: BackendPackage): Promise<{ ok: true } | { ok: false; reason: string }> {
    const importer = this.options.importers?.[pkg] ?? (() => importPackage(pkg));
    try {
      await importer();
      return { ok: true };
    } catch (e) {
      if (isModuleNotFound(e, pkg)) return { ok: false, reason: 'not installed' };
      let reason = `failed to load: ${firstLine(errorMessage(e))}`;
      if (pkg.startsWith('@tensorflow/tfjs-node') && /tfjs_binding\.node/.test(errorMessage(e))) {
        reason += ` (the package's install script, which downloads libtensorflow, did not run or failed: allow it — pnpm: onlyBuiltDependencies — and reinstall ${pkg})`;
      }
      return { ok: false, reason };
    }
  }

  private notRegisteredReason(name: BackendName, pkg: BackendPackage): string {
    if (name === 'webgpu') {
      return `${pkg} loaded but registered no 'webgpu' backend: it was first imported before navigator.gpu existed (import it after installNodeWebGPU()), or it uses another copy of @tensorflow/tfjs-core (see assertSingleTfjs())`;
    }
    return `${pkg} loaded but registered no '${name}' backend in this @tensorflow/tfjs-core: two copies of tfjs-core? (see assertSingleTfjs())`;
  }

  /** `await tf.setBackend(name)` + `await tf.ready()`, capturing tfjs's init warnings. Returns a failure reason or undefined. */
  private async init(name: BackendName): Promise<string | undefined> {
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => {
      warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
    };
    let ok = false;
    let thrown: unknown;
    try {
      ok = await this.tf.setBackend(name);
      if (ok) await this.tf.ready();
    } catch (e) {
      thrown = e;
    } finally {
      console.warn = original;
    }
    if (ok && thrown === undefined && this.tf.getBackend() === name) {
      for (const w of warnings) original(w);
      return undefined;
    }
    if (thrown !== undefined) return `initialisation failed: ${firstLine(errorMessage(thrown))}`;
    const details = warnings.filter((w) => !/^Initialization of backend .* failed$/.test(w)).map((w) => firstLine(w).replace(/^Error: /, ''));
    return `initialisation failed: ${details.length > 0 ? details.join('; ') : `tf.setBackend('${name}') returned false`}`;
  }
}

/**
 * `import(pkg)`, and in Node, when that fails because `pkg` is not visible from
 * `@chainz/core`'s own folder (strict pnpm layouts, where optional peers are not
 * linked), `pkg` as resolved from the application's folder (`process.cwd()`).
 */
async function importPackage(pkg: string): Promise<unknown> {
  try {
    return await import(/* @vite-ignore */ pkg);
  } catch (e) {
    const proc = (globalThis as { process?: { cwd(): string; getBuiltinModule?: (id: string) => unknown } }).process;
    const mod = proc?.getBuiltinModule?.('node:module') as { createRequire(p: string): { resolve(s: string): string } } | undefined;
    const url = proc?.getBuiltinModule?.('node:url') as { pathToFileURL(p: string): URL } | undefined;
    if (!isModuleNotFound(e, pkg) || mod === undefined || url === undefined || proc === undefined) throw e;
    let file: string;
    try {
      file = mod.createRequire(`${proc.cwd()}/noop.js`).resolve(pkg);
    } catch {
      throw e;
    }
    return await import(/* @vite-ignore */ url.pathToFileURL(file).href);
  }
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim() !== '') ?? s;
  return line.trim();
}

/**
 * A short description if `adapter` is a software rasteriser (Mesa llvmpipe /
 * lavapipe / softpipe, SwiftShader, or flagged as a fallback adapter), else
 * undefined.
 */
export function describeSoftwareAdapter(adapter: { info?: Record<string, string | undefined>; isFallbackAdapter?: boolean } | null): string | undefined {
  if (!adapter) return undefined;
  const i = adapter.info ?? {};
  const text = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ');
  if (/llvmpipe|lavapipe|softpipe|swiftshader|software/i.test(text)) return text;
  if (adapter.isFallbackAdapter || (i as { isFallbackAdapter?: unknown }).isFallbackAdapter === true) return text || 'fallback adapter';
  return undefined;
}

/**
 * True unless this is Linux (Node) with no GPU device node: no DRM render node
 * (`/dev/dri/renderD*`, AMD/Intel/NVIDIA-DRM), no `/dev/nvidia0` (NVIDIA's
 * driver) and no `/dev/dxg` (WSL). Other platforms answer true (the adapter
 * probe decides there).
 */
export function hasGpuDeviceNode(): boolean {
  const rt = runtimeInfo();
  if (!rt.isNode || rt.platform !== 'linux') return true;
  const fs = nodeFs();
  if (!fs) return true;
  if (fs.existsSync('/dev/nvidia0') || fs.existsSync('/dev/dxg')) return true;
  try {
    return fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

/** Node's `fs` through `process.getBuiltinModule` (Node ≥ 20.16), without a static import (the package also runs in browsers). */
function nodeFs(): { existsSync(p: string): boolean; readdirSync(p: string): string[] } | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.('node:fs') as ReturnType<typeof nodeFs>;
}
