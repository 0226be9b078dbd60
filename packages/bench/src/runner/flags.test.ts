import { describe, expect, it } from 'vitest';
import { ConfigError } from '@chainz/core';
import { COMMON_FLAGS, parseFlagValue, RUN_FLAGS, validateOptions } from './flags';

const rejects = (f: () => unknown, msg: string | RegExp) => {
  expect(f).toThrow(ConfigError);
  expect(f).toThrow(msg);
};

describe('flag values (CLI text)', () => {
  it('--lambda: decimal and exponent numbers ≥ 0', () => {
    expect(['0', '0.003', '.5', '3.', '1e-3', '1E2', '10', '1e308', ' 2 '].map((v) => parseFlagValue(COMMON_FLAGS.lambda, v))).toEqual([0, 0.003, 0.5, 3, 0.001, 100, 10, 1e308, 2]);
  });

  it("--lambda: '' and blanks (Number('') is 0), hex/octal/binary (Number('0x10') is 16), Infinity, NaN, negatives, overflow are refused", () => {
    rejects(() => parseFlagValue(COMMON_FLAGS.lambda, ''), 'option --lambda: must not be empty (leave the option out for its default)');
    rejects(() => parseFlagValue(COMMON_FLAGS.lambda, ' \t'), 'option --lambda: must not be empty');
    for (const v of ['0x10', '0o7', '0b1', 'Infinity', 'NaN', '1,5', '1e', 'e3', '.', 'abc']) {
      rejects(() => parseFlagValue(COMMON_FLAGS.lambda, v), `option --lambda: must be a decimal number ≥ 0, got '${v}'`);
    }
    rejects(() => parseFlagValue(COMMON_FLAGS.lambda, '-1'), 'option --lambda: must be a number ≥ 0, got -1');
    rejects(() => parseFlagValue(COMMON_FLAGS.lambda, '1e309'), 'option --lambda: must be a number ≥ 0, got Infinity');
  });

  it('integers: plain digits within bounds; no exponent, hex or fractions', () => {
    expect(parseFlagValue(COMMON_FLAGS.folds, '10')).toBe(10);
    expect(parseFlagValue(COMMON_FLAGS.folds, '+3')).toBe(3);
    for (const v of ['1e1', '0x10', '2.5', 'ten']) rejects(() => parseFlagValue(COMMON_FLAGS.folds, v), `option --folds: must be an integer from 2 to 1000, got '${v}'`);
    rejects(() => parseFlagValue(COMMON_FLAGS.folds, '1'), 'option --folds: must be an integer from 2 to 1000, got 1');
    rejects(() => parseFlagValue(COMMON_FLAGS.seed, '-1'), 'option --seed: must be an integer from 0 to 4294967295, got -1');
    rejects(() => parseFlagValue(COMMON_FLAGS.repeats, '101'), 'option --repeats: must be an integer from 1 to 100, got 101');
    rejects(() => parseFlagValue(COMMON_FLAGS.seeds, '101'), 'option --seeds: must be an integer from 1 to 100, got 101');
  });

  it('lists: at least one name; choices', () => {
    expect(parseFlagValue(COMMON_FLAGS.models, ' cr , logreg ')).toEqual(['cr', 'logreg']);
    rejects(() => parseFlagValue(COMMON_FLAGS.models, ' , '), 'option --models: needs at least one name (leave the option out for all)');
    rejects(() => parseFlagValue(COMMON_FLAGS.protocol, 'fast'), "option --protocol: must be one of default, full, got 'fast'");
  });
});

describe('validateOptions (library callers get the same rules)', () => {
  const specs = [COMMON_FLAGS.lambda, COMMON_FLAGS.folds, COMMON_FLAGS.seed, COMMON_FLAGS.models, RUN_FLAGS.out];
  it('applies defaults, resolves paths, and refuses what the CLI refuses', () => {
    expect(validateOptions(specs, { out: 'r' }, '/base')).toEqual({ out: '/base/r', seed: 0 });
    rejects(() => validateOptions(specs, { lambda: -1 }, '/'), 'option --lambda: must be a number ≥ 0, got -1');
    rejects(() => validateOptions(specs, { lambda: Number.NaN }, '/'), 'option --lambda: must be a number ≥ 0, got NaN');
    rejects(() => validateOptions(specs, { folds: 2.5 }, '/'), 'option --folds: must be an integer from 2 to 1000, got 2.5');
    rejects(() => validateOptions(specs, { models: [] }, '/'), 'option --models: needs at least one name');
    rejects(() => validateOptions(specs, { out: ' ' }, '/'), 'option --out: must not be empty');
  });
});
