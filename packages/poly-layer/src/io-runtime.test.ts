import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { ChainzError } from '@chainz/core';
import { loadModel, saveModel } from './io';

describe('saveModel / loadModel outside Node (a browser)', () => {
  it('throw ChainzError E_IO pointing to tfjs IO handlers, before touching the model', async () => {
    const original = Object.getOwnPropertyDescriptor(process, 'versions')!;
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [2] })] });
    Object.defineProperty(process, 'versions', { ...original, value: { ...process.versions, node: undefined } });
    let saved: unknown;
    let loaded: unknown;
    try {
      saved = await saveModel(model, 'out').catch((e: unknown) => e);
      loaded = await loadModel('out').catch((e: unknown) => e);
    } finally {
      Object.defineProperty(process, 'versions', original);
      model.dispose();
    }
    for (const [e, fn] of [[saved, 'saveModel'], [loaded, 'loadModel']] as const) {
      expect(e).toBeInstanceOf(ChainzError);
      expect((e as ChainzError).code).toBe('E_IO');
      expect((e as ChainzError).message).toMatch(new RegExp(`^${fn} needs Node\\.js \\(node:fs/promises\\), not available in this runtime$`));
      expect((e as ChainzError).hint).toMatch(/downloads:\/\/.*browserFiles/);
    }
  });
});
