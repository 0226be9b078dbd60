/**
 * The backend vocabulary of ChainzRule-TS: tfjs backend names, the devices a
 * user may ask for, and which npm packages provide each backend.
 *
 * Devices (what the user asks for) are kept apart from backend names (what tfjs
 * registers), as transformers.js does: `cuda` and `tensorflow` both end at the
 * tfjs backend `'tensorflow'`, but `cuda` accepts only `@tensorflow/tfjs-node-gpu`.
 */
import { ConfigError } from '../errors';

/** tfjs backend names ChainzRule-TS knows, in the default priority order (docs/backends.md). */
export const BACKEND_ORDER = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

/** A tfjs backend name (`tf.getBackend()` after resolution). */
export type BackendName = (typeof BACKEND_ORDER)[number];

/**
 * Devices a user can ask for:
 * - `auto`: the first backend in {@link BACKEND_ORDER} that is installed and initialises;
 * - `cuda`: TensorFlow C++ with CUDA (`@tensorflow/tfjs-node-gpu`) only;
 * - `gpu`: any GPU: tfjs-node-gpu, then WebGPU;
 * - `webgpu`, `wasm`, `cpu`: exactly that tfjs backend.
 */
export const DEVICES = ['auto', 'cuda', 'gpu', 'webgpu', 'wasm', 'cpu'] as const;

/** A device name, see {@link DEVICES}. */
export type Device = (typeof DEVICES)[number];

/** What `resolveBackend` accepts: a device, or the backend name `tensorflow` (tfjs-node-gpu, then tfjs-node). */
export type BackendPreference = Device | 'tensorflow';

/** Every accepted preference, for help texts and error messages. */
export const BACKEND_PREFERENCES: readonly BackendPreference[] = Object.freeze([...DEVICES, 'tensorflow']);

/** npm packages that provide a tfjs backend (all optional peer dependencies of `@chainz/core`). */
export type BackendPackage =
  | '@tensorflow/tfjs-node-gpu'
  | '@tensorflow/tfjs-node'
  | '@tensorflow/tfjs-backend-webgpu'
  | '@tensorflow/tfjs-backend-wasm'
  | '@tensorflow/tfjs-backend-cpu';

/** One way to get a backend: the package to import and the device it then runs on. */
export interface BackendSource {
  /** npm package whose import registers the backend. */
  readonly package: BackendPackage;
  /** Where the computation runs with this package. */
  readonly device: 'cuda' | 'cpu' | 'webgpu' | 'wasm';
}

/** Packages per backend, in the order they are tried. tfjs-node and tfjs-node-gpu both register `'tensorflow'`. */
export const BACKEND_SOURCES: Readonly<Record<BackendName, readonly BackendSource[]>> = Object.freeze({
  tensorflow: [
    { package: '@tensorflow/tfjs-node-gpu', device: 'cuda' },
    { package: '@tensorflow/tfjs-node', device: 'cpu' },
  ],
  webgpu: [{ package: '@tensorflow/tfjs-backend-webgpu', device: 'webgpu' }],
  wasm: [{ package: '@tensorflow/tfjs-backend-wasm', device: 'wasm' }],
  cpu: [{ package: '@tensorflow/tfjs-backend-cpu', device: 'cpu' }],
});

/** One step of a resolution plan: a backend and the packages allowed to provide it. */
export interface PlanStep {
  readonly name: BackendName;
  readonly sources: readonly BackendSource[];
}

/**
 * The backends tried for a preference, in order. Only `auto` and `gpu` fall
 * back to a later backend; every other preference names exactly one.
 */
export function planFor(preference: BackendPreference): PlanStep[] {
  const all = (name: BackendName): PlanStep => ({ name, sources: BACKEND_SOURCES[name] });
  const cudaOnly: PlanStep = { name: 'tensorflow', sources: BACKEND_SOURCES.tensorflow.filter((s) => s.device === 'cuda') };
  switch (preference) {
    case 'auto':
      return BACKEND_ORDER.map(all);
    case 'cuda':
      return [cudaOnly];
    case 'gpu':
      return [cudaOnly, all('webgpu')];
    case 'tensorflow':
    case 'webgpu':
    case 'wasm':
    case 'cpu':
      return [all(preference)];
  }
}

/**
 * How to install each backend (one line each), for error messages.
 * @param version tfjs version to pin in the commands (default `4.22.0`, the workspace pin).
 */
export function installHints(version = '4.22.0'): Record<BackendName, string> {
  return {
    tensorflow:
      `npm i @tensorflow/tfjs-node@${version} (native CPU) or @tensorflow/tfjs-node-gpu@${version} (CUDA 11.2 + cuDNN 8.1, Linux x64); ` +
      'their install script downloads libtensorflow from storage.googleapis.com, so it needs that host and allowed build scripts (pnpm: onlyBuiltDependencies)',
    webgpu:
      `npm i @tensorflow/tfjs-backend-webgpu@${version}; in Node also npm i webgpu@0.6.2 and, without a GPU, ` +
      'apt-get install -y --no-install-recommends libegl1 libegl-mesa0 libgl1-mesa-dri libgles2',
    wasm: `npm i @tensorflow/tfjs-backend-wasm@${version}`,
    cpu: `npm i @tensorflow/tfjs-backend-cpu@${version}`,
  };
}

/**
 * Parses a user-supplied preference (`--backend`, `CHAINZ_BACKEND`): trimmed,
 * case-insensitive, empty means `auto`.
 * @param value the raw string.
 * @param option the option or variable name, for the error message (default `backend`).
 * @throws ConfigError naming the option and listing the valid choices.
 */
export function parseBackendPreference(value: string, option = 'backend'): BackendPreference {
  const v = value.trim().toLowerCase();
  if (v === '') return 'auto';
  if ((BACKEND_PREFERENCES as readonly string[]).includes(v)) return v as BackendPreference;
  throw new ConfigError(`unknown backend '${value}'; expected one of ${BACKEND_PREFERENCES.join(', ')}`, { option });
}
