// Module resolution hook (registered with node:module `register` by the CLI and
// its worker threads before plugins are imported): a plugin that imports
// `@chainz/*` or `@tensorflow/*` without its own installed copy gets the copy
// of the `chainz` that loads it — the same registries and the same tfjs
// engine. Anything else resolves as usual.

interface ResolveContext {
  parentURL?: string;
  conditions?: string[];
  importAttributes?: Record<string, string>;
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<{ url: string; format?: string | null; shortCircuit?: boolean }>;

let fallbackParent: string | undefined;

/** Receives the URL of a file of the CLI (resolution starts from there). */
export function initialize(data: { fallbackParent?: string } | undefined): void {
  fallbackParent = data?.fallbackParent;
}

const SHARED = /^@(chainz|tensorflow)\//;

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (e) {
    if (!fallbackParent || !SHARED.test(specifier) || (e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    return nextResolve(specifier, { ...context, parentURL: fallbackParent });
  }
}
