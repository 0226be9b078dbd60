import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataError } from '@chainz/core';
import { loadYelp, stratifiedKFold } from '@chainz/data';
import { dataFlags, foldFlags, withCliFlags } from './cli-flags';

describe('withCliFlags', () => {
  it('respells an async adapter error as the CLI flags; a direct library call keeps the option names', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'chainz-flags-'));
    const fail = (e: unknown) => e as DataError;
    const resolved = () => {
      throw new Error('expected a rejection');
    };
    const direct = await loadYelp({ dataDir: empty }).then(resolved, fail);
    expect(direct.hint).toMatch(/or pass a file or folder as `path`$/);
    const cli = await withCliFlags(dataFlags('--yelp-dir'), () => loadYelp({ dataDir: empty })).then(resolved, fail);
    expect(cli).toBeInstanceOf(DataError);
    expect(cli.hint).toMatch(/or pass a file or folder as --yelp-dir$/);
    expect(cli.message).toBe(direct.message);
  });

  it('respells a synchronous throw and passes values and other errors through', () => {
    const labels = Int32Array.from([0, 0, 0, 1, 1, 1]);
    expect(() => withCliFlags(foldFlags('--data'), () => stratifiedKFold(labels, 7, 0))).toThrow('option --folds: 7 folds but only 6 examples to split');
    expect(withCliFlags(foldFlags('--data'), () => stratifiedKFold(labels, 3, 0))).toHaveLength(3);
    const plain = new TypeError('x');
    expect(() =>
      withCliFlags(foldFlags('--data'), () => {
        throw plain;
      }),
    ).toThrow(plain);
  });
});
