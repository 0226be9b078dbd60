import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChainzError } from './errors';
import { importNodeBuiltin, isNodeRuntime } from './on-demand';

describe('importNodeBuiltin', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('loads a Node built-in in Node', async () => {
    const path = await importNodeBuiltin<typeof import('node:path')>('node:path', 'test');
    expect(path.join('a', 'b')).toBe(`a${path.sep}b`);
  });

  it('outside Node throws ChainzError E_IO naming the feature, the module and the hint', async () => {
    vi.stubGlobal('process', undefined);
    expect(isNodeRuntime()).toBe(false);
    const err = await importNodeBuiltin('node:fs/promises', 'saveModel', 'use a tfjs IO handler').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChainzError);
    expect((err as ChainzError).code).toBe('E_IO');
    expect((err as ChainzError).message).toBe('saveModel needs Node.js (node:fs/promises), not available in this runtime');
    expect((err as ChainzError).hint).toBe('use a tfjs IO handler');
  });

  it('rejects like import() for a built-in that does not exist', async () => {
    await expect(importNodeBuiltin('node:no-such-module', 'test')).rejects.toThrow(/no-such-module/);
  });
});
