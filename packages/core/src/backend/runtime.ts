/**
 * Capability probes of the JavaScript runtime, taken fresh on each call (the
 * answer to `webgpu` changes once {@link installNodeWebGPU} has run).
 */

/** What the current runtime offers. */
export interface RuntimeInfo {
  /** Running in Node.js (`process.versions.node` is set). */
  readonly isNode: boolean;
  /** A DOM window or worker global scope (a browser or a web worker). */
  readonly isBrowser: boolean;
  /** `navigator.gpu` exists (native in a browser; in Node only after `installNodeWebGPU()`). */
  readonly webgpu: boolean;
  /** `process.platform` in Node, `'browser'` otherwise. */
  readonly platform: string;
  /** `process.arch` in Node, `''` otherwise. */
  readonly arch: string;
}

/** Returns a frozen snapshot of the runtime's capabilities. */
export function runtimeInfo(): RuntimeInfo {
  const g = globalThis as { process?: { versions?: { node?: string }; platform?: string; arch?: string }; navigator?: { gpu?: unknown }; window?: unknown; importScripts?: unknown };
  const isNode = typeof g.process?.versions?.node === 'string';
  return Object.freeze({
    isNode,
    isBrowser: !isNode && (typeof g.window === 'object' || typeof g.importScripts === 'function'),
    webgpu: g.navigator?.gpu != null,
    platform: isNode ? String(g.process?.platform) : 'browser',
    arch: isNode ? String(g.process?.arch) : '',
  });
}

/** `process.env` in Node, an empty object elsewhere. */
export function processEnv(): Record<string, string | undefined> {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  return g.process?.env ?? {};
}
