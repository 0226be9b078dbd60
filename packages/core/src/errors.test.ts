import { describe, expect, it } from 'vitest';
import { ChainzError, ConfigError, DataError, IoError, NonFiniteError, NumericError, ShapeError, isChainzError, optionClause, optionRef, renameOptions } from './errors';

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

  it('an optionClause reads its text while one of its options is offered, else its plain alternative', () => {
    const e = new DataError(
      `too many classes`,
      { option: 'maxClasses' },
      `choose the class column with ${optionRef('target')}${optionClause('maxClasses', `, or raise ${optionRef('maxClasses')}`)}; ${optionClause(['missing', 'na'], `list it in ${optionRef('missing', 'na')}`, 'leave the cell empty')}`,
    );
    expect(e.hint).toBe('choose the class column with `target`, or raise `maxClasses`; list it in `missing` or `na`');
    expect(e.message).toBe('option maxClasses: too many classes');
    const cli = e.withOptionNames({ target: '--target', maxClasses: null, missing: null });
    expect(cli.hint).toBe('choose the class column with --target; list it in `na`');
    // an option the caller does not offer is not named in the location either
    expect(cli.message).toBe('too many classes');
    expect(cli.location).toEqual({});
    expect(cli.withOptionNames({ na: null }).hint).toBe('choose the class column with --target; leave the cell empty');
    // a clause inside a clause, and text with the marker's own characters
    const nested = new ConfigError(`a${optionClause('x', `{b:|}${optionClause('y', 'c', 'd')}`, 'e')}`);
    expect(nested.message).toBe('a{b:|}c');
    expect(nested.withOptionNames({ y: null }).message).toBe('a{b:|}d');
    expect(nested.withOptionNames({ x: null }).message).toBe('ae');
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

describe('ChainzError message composition', () => {
  it('does not repeat a location the message already names', () => {
    // a layer named in the message is not prefixed again as the tensor
    expect(new NumericError("layer 'dense_1': produced NaN", { tensor: 'dense_1' }).message).toBe("layer 'dense_1': produced NaN");
    expect(new ShapeError('layer `hidden` needs rank 2', { tensor: 'hidden' }).message).toBe('layer `hidden` needs rank 2');
    // a file path the message already quotes (e.g. from a Node error) is not prefixed again
    expect(new DataError("cannot read: ENOENT: no such file or directory, open '/tmp/a.json'", { file: '/tmp/a.json' }).message).toBe(
      "cannot read: ENOENT: no such file or directory, open '/tmp/a.json'",
    );
    // an unquoted mention (here inside a command line) does not count
    expect(new DataError('held by: chainz --out /tmp/r', { file: '/tmp/r' }).message).toBe('/tmp/r: held by: chainz --out /tmp/r');
    // other parts stay; the structured location is kept as given
    const e = new DataError("layer 'L': bad value", { file: 'x.csv', row: 3, tensor: 'L' });
    expect(e.message).toBe("x.csv, row 3: layer 'L': bad value");
    expect(e.location).toEqual({ file: 'x.csv', row: 3, tensor: 'L' });
  });

  it('keeps a location that is only part of a longer word in the message', () => {
    expect(new ShapeError('dense expects a rank-2 input', { tensor: 'x' }).message).toBe('tensor x: dense expects a rank-2 input');
    expect(new ShapeError('input has 3 features but the layer expects 4', { tensor: 'layer' }).message).toBe('tensor layer: input has 3 features but the layer expects 4');
    // option prefixes are kept: they say which option the whole message is about
    expect(new ConfigError(`must be ≥ 1; or leave ${optionRef('workers')} out`, { option: 'workers' }).message).toBe('option workers: must be ≥ 1; or leave `workers` out');
  });

  it('withOptionNames applies the same rule to a file named in the respelled message', () => {
    const e = new DataError(`cannot read '/d/x.csv'; pass ${optionRef('path')}`, { file: '/d/x.csv', option: 'path' }).withOptionNames({ path: '--data' });
    expect(e.message).toBe("option --data: cannot read '/d/x.csv'; pass --data");
  });
});

describe('IoError and NonFiniteError', () => {
  it('carry their fields, also through withOptionNames', () => {
    const io = new IoError('cannot write (ENOSPC: no space left on device)', { file: '/r/results.json', errno: 'ENOSPC' });
    expect(io.message).toBe('/r/results.json: cannot write (ENOSPC: no space left on device)');
    expect([io.name, io.code, io.errno]).toEqual(['IoError', 'E_IO', 'ENOSPC']);
    expect(io.location).toEqual({ file: '/r/results.json' });
    expect(io.withOptionNames({ out: '--out' }).errno).toBe('ENOSPC');
    const nf = new NonFiniteError("step 3: gradient of layer 'h1' is not finite", { kind: 'gradient', layer: 'h1', tensor: '∂loss/∂kernel', step: 3 });
    expect([nf.name, nf.code, nf.kind, nf.layer, nf.tensorName, nf.step, nf.row]).toEqual(['NonFiniteError', 'E_NONFINITE', 'gradient', 'h1', '∂loss/∂kernel', 3, undefined]);
    expect(isChainzError(nf)).toBe(true);
    expect(nf.withOptionNames({}).step).toBe(3);
  });
});

describe('withOptionNames keeps the name of a subclass defined outside core', () => {
  it('even when a bundler renamed the class (its name set explicitly, as a plugin error does)', () => {
    const Renamed = class _PluginError extends ChainzError {
      constructor(message: string) {
        super('E_CONFIG', message, { option: 'plugin' });
        this.name = 'PluginError';
      }
    };
    const e = new Renamed('bad plugin');
    expect(e.name).toBe('PluginError');
    const cli = e.withOptionNames({ plugin: '--plugin' });
    expect(cli.name).toBe('PluginError');
    expect(cli).toBeInstanceOf(Renamed);
    expect(cli.stack?.startsWith('PluginError: ')).toBe(true);
  });
});
