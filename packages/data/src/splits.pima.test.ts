import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { loadPima } from './pima/adapter';
import { repeatedStratifiedKFold } from './splits';
import pinned from './__fixtures__/pima-folds.json';

/**
 * Pins the fold assignment of the embedded Pima data (fixture written by the
 * splitter as it was when `chainz bench pima`'s published numbers were made):
 * any change to the splitter that moves one Pima example to another fold
 * changes those numbers and fails here.
 */
describe('Pima fold assignment (pinned)', () => {
  it.each(Object.keys(pinned))('%s is unchanged', async (key) => {
    const [, k, r, s] = /^k(\d+)-r(\d+)-seed(\d+)$/.exec(key)!.map(Number);
    const ds = await loadPima();
    const y = ds.splits.all.labels;
    ds.dispose();
    const folds = repeatedStratifiedKFold(y, k, r, s);
    const foldOf: string[] = [];
    for (let rep = 0; rep < r; rep++) {
      const v = new Array<string>(y.length).fill('?');
      for (const f of folds.filter((f) => f.repeat === rep)) for (const i of f.test) v[i] = String(f.fold);
      foldOf.push(v.join(''));
    }
    const want = (pinned as Record<string, { sha256: string; repeat0: string }>)[key];
    expect(foldOf[0]).toBe(want.repeat0);
    expect(createHash('sha256').update(foldOf.join('\n')).digest('hex')).toBe(want.sha256);
  });
});
