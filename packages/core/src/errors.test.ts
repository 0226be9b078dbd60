import { describe, expect, it } from 'vitest';
import { ChainzError, ConfigError, DataError, isChainzError, optionRef, renameOptions } from './errors';

describe('ChainzError option names', () => {
  const make = () =>
    new DataError(`no location: set CHAINZ_DATA_DIR or pass ${optionRef('path', 'dataDir')}`, { option: 'path' }, `or pass the folder as ${optionRef('path')}`, { cause: new Error('ENOENT') });

  it('spells optionRef mentions as the library option names by default', () => {
    const e = make();
    expect(e.message).toBe('option path: no location: set CHAINZ_DATA_DIR or pass `path` or `dataDir`');
    expect(e.hint).toBe('or pass the folder as `path`');
    expect(e.message).not.toMatch(/\{option:/);
  });

  it('withOptionNames respells message, hint and location, dropping null alternatives', () => {
    const e = make();
    const cli = e.withOptionNames({ path: '--data', dataDir: null });
    expect(cli.message).toBe('option --data: no location: set CHAINZ_DATA_DIR or pass --data');
    expect(cli.hint).toBe('or pass the folder as --data');
    expect(cli.location).toEqual({ option: '--data' });
    // same class, code and cause; the original is unchanged
    expect(cli).toBeInstanceOf(DataError);
    expect(cli).toBeInstanceOf(ChainzError);
    expect(cli.name).toBe('DataError');
    expect(cli.code).toBe('E_DATA');
    expect((cli.cause as Error).message).toBe('ENOENT');
    expect(cli.stack).toMatch(/^DataError: option --data: no location/);
    expect(cli.stack).toBe(`DataError: ${cli.message}${e.stack!.slice(e.stack!.indexOf('\n    at '))}`);
    expect(e.message).toBe('option path: no location: set CHAINZ_DATA_DIR or pass `path` or `dataDir`');
  });

  it('names not given keep their spelling; later calls add to earlier ones', () => {
    const e = new ConfigError(`choose ${optionRef('k')} ≤ 3 or fewer ${optionRef('repeats')}`, { option: 'k' });
    const a = e.withOptionNames({ k: '--folds' });
    expect(a.message).toBe('option --folds: choose --folds ≤ 3 or fewer `repeats`');
    const b = a.withOptionNames({ repeats: '--repeats' });
    expect(b.message).toBe('option --folds: choose --folds ≤ 3 or fewer --repeats');
    // every alternative dropped: the library names stay rather than an empty mention
    expect(new ConfigError(`pass ${optionRef('dataDir')}`).withOptionNames({ dataDir: null }).message).toBe('pass `dataDir`');
  });

  it('renameOptions respells ChainzErrors and passes anything else through', () => {
    const e = renameOptions(make(), { path: '--yelp-dir' });
    expect(isChainzError(e)).toBe(true);
    expect(e.message).toMatch(/pass --yelp-dir or `dataDir`$/);
    const plain = new Error('x');
    expect(renameOptions(plain, { path: '--data' })).toBe(plain);
    expect(renameOptions('text', { path: '--data' })).toBe('text');
  });
});

describe('option renaming through several layers', () => {
  it('a loader renames path → cifarDir, a CLI then cifarDir → --cifar-dir: the message reads the flag', () => {
    const e = new DataError(`not found: pass ${optionRef('path', 'dataDir')}`, { option: 'path' }, `or pass ${optionRef('path')}`);
    const lib = e.withOptionNames({ path: 'cifarDir', dataDir: null });
    expect(lib.message).toBe('option cifarDir: not found: pass cifarDir');
    const cli = lib.withOptionNames({ cifarDir: '--cifar-dir' });
    expect(cli.message).toBe('option --cifar-dir: not found: pass --cifar-dir');
    expect(cli.hint).toBe('or pass --cifar-dir');
    expect(cli).toBeInstanceOf(DataError);
  });
});
