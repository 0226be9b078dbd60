import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { assertSingleTfjs, parseBackendPreference, resolveBackend } from '@chainz/core';

/** What the CLI records about the backend in results.json. */
export interface BackendChoice {
  name: string;
  /** One line per backend not chosen, with the reason. */
  notes: string[];
}

/**
 * Check that one copy of tfjs-core is loaded (a second copy breaks custom
 * layers and kernels), then resolve and initialise the tfjs backend:
 * `preference` (the CLI's `--backend`) wins over `CHAINZ_BACKEND`, default
 * `auto` (tensorflow → webgpu on a hardware adapter → wasm → cpu).
 *
 * @throws ChainzError E_TFJS_DUPLICATE when two tfjs-core copies are found.
 * @throws BackendError when the requested backend is unavailable (lists what is).
 */
export async function useBackend(preference: string | undefined): Promise<BackendChoice> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  assertSingleTfjs({ from: [process.cwd(), here] });
  const r = await resolveBackend(preference === undefined ? undefined : parseBackendPreference(preference, '--backend'));
  return { name: r.name, notes: r.skipped.map((s) => `${s.name}${s.package ? ` (${s.package})` : ''}: ${s.reason}`) };
}
