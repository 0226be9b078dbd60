import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { DataError } from '@chainz/core';
import { resolveDataPath } from './location';

const saved = process.env.CHAINZ_DATA_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.CHAINZ_DATA_DIR;
  else process.env.CHAINZ_DATA_DIR = saved;
});

describe('resolveDataPath', () => {
  const ctx = { adapter: 'sonar', hint: 'get it from …' };

  it('path first, then dataDir, then CHAINZ_DATA_DIR; relative paths from the working directory', async () => {
    process.env.CHAINZ_DATA_DIR = '/env/data';
    expect(await resolveDataPath({ path: 'x/sonar.csv', dataDir: '/d' }, 'uci/sonar.csv', ctx)).toEqual({
      path: path.resolve('x/sonar.csv'),
      explicit: true,
      source: 'path',
    });
    expect(await resolveDataPath({ dataDir: '/d' }, 'uci/sonar.csv', ctx)).toEqual({
      path: path.resolve('/d/uci/sonar.csv'),
      explicit: false,
      source: 'dataDir',
      root: path.resolve('/d'),
    });
    expect(await resolveDataPath({}, 'uci/sonar.csv', ctx)).toEqual({
      path: path.resolve('/env/data/uci/sonar.csv'),
      explicit: false,
      source: 'CHAINZ_DATA_DIR',
      root: path.resolve('/env/data'),
    });
    // empty strings count as unset
    expect((await resolveDataPath({ path: '', dataDir: '' }, 'sst5', ctx)).source).toBe('CHAINZ_DATA_DIR');
  });

  it('with nothing set: a DataError naming the adapter, the options and the variable, with the hint', async () => {
    delete process.env.CHAINZ_DATA_DIR;
    const e = await resolveDataPath({}, 'uci/sonar.csv', ctx).then(() => undefined, (err: unknown) => err as DataError);
    expect(e).toBeInstanceOf(DataError);
    expect(e!.message).toBe("option path: no location for dataset 'sonar': set CHAINZ_DATA_DIR or pass `path` or `dataDir`");
    expect(e!.hint).toBe('get it from …');
    expect(e!.withOptionNames({ path: '--data', dataDir: null }).message).toBe("option --data: no location for dataset 'sonar': set CHAINZ_DATA_DIR or pass --data");
    // a caller with no file option at all (`chainz bench tabular --dataset sonar`): only the variable is named
    expect(e!.withOptionNames({ path: null, dataDir: null }).message).toBe("no location for dataset 'sonar': set CHAINZ_DATA_DIR");
  });
});
