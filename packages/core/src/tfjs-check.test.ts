import { describe, expect, it } from 'vitest';
import { ChainzError } from './errors';
import { assertSingleTfjs, type TfjsResolver } from './tfjs-check';

/**
 * A fake file system: `links` maps "<spec> from <dir>" to the package.json it
 * resolves to; `real` maps symlinked folders to canonical ones.
 */
function fakeResolver(links: Record<string, string>, versions: Record<string, string>, real: Record<string, string> = {}, loaded: string[] = []): TfjsResolver {
  return {
    resolvePackageJson: (spec, fromDir) => links[`${spec} from ${fromDir}`] ?? null,
    realpath: (p) => real[p] ?? p,
    readVersion: (pj) => versions[pj],
    loadedFiles: () => loaded,
  };
}

const NM = '/app/node_modules';
const CORE_A = `${NM}/.pnpm/@tensorflow+tfjs-core@4.22.0/node_modules/@tensorflow/tfjs-core`;
const CORE_B = `${NM}/.pnpm/@tensorflow+tfjs-core@4.21.0/node_modules/@tensorflow/tfjs-core`;
const LAYERS = `${NM}/.pnpm/@tensorflow+tfjs-layers@4.22.0/node_modules/@tensorflow/tfjs-layers`;
const WEBGPU = `${NM}/.pnpm/@tensorflow+tfjs-backend-webgpu@4.21.0/node_modules/@tensorflow/tfjs-backend-webgpu`;

describe('assertSingleTfjs', () => {
  it('one copy reached through symlinks: returns it with who uses it', () => {
    const resolver = fakeResolver(
      {
        '@tensorflow/tfjs-core from /app': `${NM}/@tensorflow/tfjs-core/package.json`,
        '@tensorflow/tfjs-layers from /app': `${LAYERS}/package.json`,
        [`@tensorflow/tfjs-core from ${LAYERS}`]: `${LAYERS}/../tfjs-core/package.json`,
      },
      { [`${CORE_A}/package.json`]: '4.22.0' },
      { [`${NM}/@tensorflow/tfjs-core`]: CORE_A, [`${LAYERS}/../tfjs-core`]: CORE_A },
      [`${CORE_A}/dist/tf-core.node.js`],
    );
    expect(assertSingleTfjs({ from: '/app', resolver })).toEqual([
      { path: CORE_A, version: '4.22.0', usedBy: ['the application (/app)', '@tensorflow/tfjs-layers', 'loaded in this process'] },
    ]);
  });

  it('two copies: E_TFJS_DUPLICATE naming both paths, versions, users and the fix', () => {
    const resolver = fakeResolver(
      {
        '@tensorflow/tfjs-core from /app': `${CORE_A}/package.json`,
        '@tensorflow/tfjs-layers from /app': `${LAYERS}/package.json`,
        [`@tensorflow/tfjs-core from ${LAYERS}`]: `${CORE_A}/package.json`,
        '@tensorflow/tfjs-backend-webgpu from /app': `${WEBGPU}/package.json`,
        [`@tensorflow/tfjs-core from ${WEBGPU}`]: `${CORE_B}/package.json`,
      },
      { [`${CORE_A}/package.json`]: '4.22.0', [`${CORE_B}/package.json`]: '4.21.0' },
    );
    let err: unknown;
    try {
      assertSingleTfjs({ from: '/app', resolver });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChainzError);
    const e = err as ChainzError;
    expect(e.code).toBe('E_TFJS_DUPLICATE');
    expect(e.message).toBe(
      '2 copies of @tensorflow/tfjs-core are in use; tensors and layers from one copy are rejected by the other:\n' +
        `  - 4.22.0 at ${CORE_A}\n    used by the application (/app), @tensorflow/tfjs-layers\n` +
        `  - 4.21.0 at ${CORE_B}\n    used by @tensorflow/tfjs-backend-webgpu`,
    );
    expect(e.hint).toContain('"pnpm": { "overrides": { "@tensorflow/tfjs-core": "4.22.0" } }');
    expect(e.hint).toContain('pnpm why @tensorflow/tfjs-core');
  });

  it('a second copy already loaded in the process counts too', () => {
    const resolver = fakeResolver(
      { '@tensorflow/tfjs-core from /app': `${CORE_A}/package.json` },
      { [`${CORE_A}/package.json`]: '4.22.0', [`/vendor/node_modules/@tensorflow/tfjs-core/package.json`]: '4.5.0' },
      {},
      [`${CORE_A}/dist/tf-core.node.js`, '/vendor/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js'],
    );
    expect(() => assertSingleTfjs({ from: '/app', resolver })).toThrow(/4\.5\.0 at \/vendor\/node_modules\/@tensorflow\/tfjs-core\n {4}used by loaded in this process/);
  });

  it('this workspace has exactly one tfjs-core (real resolver)', () => {
    const copies = assertSingleTfjs();
    expect(copies).toHaveLength(1);
    expect(copies[0].version).toBe('4.22.0');
    expect(copies[0].usedBy).toContain('@tensorflow/tfjs-layers');
    expect(copies[0].usedBy).toContain('loaded in this process');
  });
});
