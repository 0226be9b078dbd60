/**
 * Detects two copies of `@tensorflow/tfjs-core` in one program. Each copy
 * has its own classes, so tensors and layers made by one are rejected by the
 * other ("…got 'SymbolicTensor'"), and a second copy prints "Platform node has
 * already been set". Package managers install a second copy when two tfjs
 * packages ask for different versions (tfjs-layers and the backends pin their
 * tfjs-core peer exactly).
 */
import { ChainzError } from './errors';

/** File-system access used by {@link assertSingleTfjs}; injectable for tests. */
export interface TfjsResolver {
  /** Absolute path of `<spec>/package.json` as Node resolves `spec` from directory `fromDir`, or null if it does not resolve. */
  resolvePackageJson(spec: string, fromDir: string): string | null;
  /** Canonical path (symlinks resolved, as `fs.realpathSync`). */
  realpath(path: string): string;
  /** The `version` field of a package.json, if readable. */
  readVersion(packageJsonPath: string): string | undefined;
  /** Files already loaded in this process (Node's CommonJS module cache keys). */
  loadedFiles(): string[];
}

/** One copy of tfjs-core found. */
export interface TfjsCoreCopy {
  /** Canonical folder of the package. */
  readonly path: string;
  /** Its version (`'unknown'` if unreadable). */
  readonly version: string;
  /** Who uses it: `the application (<dir>)`, a package name, or `loaded in this process`. */
  readonly usedBy: readonly string[];
}

/** Options of {@link assertSingleTfjs}. */
export interface AssertSingleTfjsOptions {
  /** Folders whose resolution of tfjs-core counts (the application). Default `[process.cwd()]` plus `@chainz/core`'s own folder. */
  from?: string | string[];
  /** Packages that depend on tfjs-core; the copy each resolves is compared. Default {@link TFJS_DEPENDENTS}. */
  dependents?: readonly string[];
  /** File-system access; default: Node's resolver. */
  resolver?: TfjsResolver;
}

/** tfjs packages (and ours) that resolve their own tfjs-core. */
export const TFJS_DEPENDENTS: readonly string[] = Object.freeze([
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-converter',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@chainz/poly-layer',
  '@chainz/dreg',
  '@chainz/metrics',
  '@chainz/data',
  '@chainz/bench',
]);

const CORE = '@tensorflow/tfjs-core';

/**
 * Fails when more than one copy of `@tensorflow/tfjs-core` is reachable: the
 * one the application resolves, the one each tfjs package (layers, backends,
 * converter, tfjs-node) and each `@chainz/*` package resolves, and any copy
 * already loaded in the process (Node's CommonJS cache) are compared by
 * canonical path. In a browser bundle it checks nothing and returns `[]`.
 *
 * @param options see {@link AssertSingleTfjsOptions}.
 * @returns the copies found: one, or none when tfjs-core is not resolvable from anywhere.
 * @throws ChainzError with code `E_TFJS_DUPLICATE`, naming every copy, its
 *   version and who uses it, with a hint on how to keep one version.
 */
export function assertSingleTfjs(options: AssertSingleTfjsOptions = {}): TfjsCoreCopy[] {
  const resolver = options.resolver ?? nodeResolver();
  if (resolver === undefined) return [];
  const from = options.from === undefined ? defaultAnchors() : Array.isArray(options.from) ? options.from : [options.from];
  const copies = new Map<string, { version: string; usedBy: Set<string> }>();
  const add = (pkgJson: string | null, who: string) => {
    if (pkgJson === null) return;
    const dir = resolver.realpath(dirname(pkgJson));
    let c = copies.get(dir);
    if (c === undefined) {
      c = { version: resolver.readVersion(`${dir}/package.json`) ?? 'unknown', usedBy: new Set() };
      copies.set(dir, c);
    }
    c.usedBy.add(who);
  };

  for (const anchor of from) {
    add(resolver.resolvePackageJson(CORE, anchor), `the application (${anchor})`);
    for (const dep of options.dependents ?? TFJS_DEPENDENTS) {
      const depJson = resolver.resolvePackageJson(dep, anchor);
      if (depJson !== null) add(resolver.resolvePackageJson(CORE, dirname(depJson)), dep);
    }
  }
  for (const file of resolver.loadedFiles()) {
    const i = file.replace(/\\/g, '/').lastIndexOf(`/node_modules/${CORE}/`);
    if (i >= 0) add(`${file.slice(0, i + `/node_modules/${CORE}/`.length)}package.json`, 'loaded in this process');
  }

  const list: TfjsCoreCopy[] = [...copies].map(([path, c]) => ({ path, version: c.version, usedBy: [...c.usedBy] }));
  if (list.length <= 1) return list;

  const app = list.find((c) => c.usedBy.some((u) => u.startsWith('the application'))) ?? list[0];
  const pin = app.version !== 'unknown' ? app.version : '4.22.0';
  throw new ChainzError(
    'E_TFJS_DUPLICATE',
    `${list.length} copies of ${CORE} are in use; tensors and layers from one copy are rejected by the other:\n` +
      list.map((c) => `  - ${c.version} at ${c.path}\n    used by ${c.usedBy.join(', ')}`).join('\n'),
    {},
    `Keep one version: pin every @tensorflow/* package to the same version (${pin}), and force it in the root package.json ` +
      `(pnpm: "pnpm": { "overrides": { "${CORE}": "${pin}" } }; npm: "overrides"; yarn: "resolutions"), reinstall, ` +
      `then check with \`pnpm why ${CORE}\` (npm ls ${CORE}).`,
  );
}

function dirname(p: string): string {
  const s = p.replace(/\\/g, '/');
  return s.slice(0, s.lastIndexOf('/')) || '/';
}

function defaultAnchors(): string[] {
  const anchors = [processCwd()];
  try {
    // `import.meta.url` through a variable: bundlers (Vite, webpack) treat
    // `new URL('<literal>', import.meta.url)` as an asset reference and would copy this folder's index.js
    const self = import.meta.url;
    const here = new URL('.', self);
    if (here.protocol === 'file:') anchors.push(decodeURIComponent(here.pathname).replace(/\/$/, ''));
  } catch {
    // Not a file URL (bundled): the application's folder alone.
  }
  return anchors;
}

function processCwd(): string {
  const p = (globalThis as { process?: { cwd?: () => string } }).process;
  return p?.cwd?.() ?? '/';
}

type NodeModule = {
  createRequire(from: string): { resolve(spec: string, opts?: { paths?: string[] }): string; cache: Record<string, unknown> };
};
type NodeFs = { realpathSync(p: string): string; readFileSync(p: string, enc: 'utf8'): string; existsSync(p: string): boolean };

/** Node's resolver, or undefined outside Node (or Node < 20.16 without `process.getBuiltinModule`). */
function nodeResolver(): TfjsResolver | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:module') as NodeModule | undefined;
  const fs = proc?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
  if (mod === undefined || fs === undefined) return undefined;
  return {
    resolvePackageJson(spec, fromDir) {
      const req = mod.createRequire(`${fromDir.replace(/\/$/, '')}/noop.js`);
      try {
        return req.resolve(`${spec}/package.json`);
      } catch {
        // Packages with an `exports` map that hides package.json: resolve the entry, walk up.
        try {
          let dir = dirname(req.resolve(spec));
          while (dir !== '/' && dir !== '') {
            const pj = `${dir}/package.json`;
            if (fs.existsSync(pj) && (JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === spec) return pj;
            dir = dirname(dir);
          }
        } catch {
          // Not resolvable from here.
        }
        return null;
      }
    },
    realpath: (p) => {
      try {
        return fs.realpathSync(p);
      } catch {
        return p;
      }
    },
    readVersion(pj) {
      try {
        return (JSON.parse(fs.readFileSync(pj, 'utf8')) as { version?: string }).version;
      } catch {
        return undefined;
      }
    },
    loadedFiles: () => Object.keys(mod.createRequire(`${processCwd()}/noop.js`).cache),
  };
}
