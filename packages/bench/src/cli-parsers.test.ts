import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'commander';
import { ConfigError } from '@chainz/core';
import { capWorkers, intOption, MAX_REPEATS, maxWorkers, parseLambda, parseRepeats, WORKER_BYTES } from './cli-parsers';

const rejects = (f: () => unknown, msg: string) => {
  expect(f).toThrow(InvalidArgumentError);
  expect(f).toThrow(msg);
};

describe('parseLambda', () => {
  it('accepts decimal and exponent numbers ≥ 0', () => {
    expect(['0', '0.003', '.5', '3.', '1e-3', '1E2', '10', '1e308'].map(parseLambda)).toEqual([0, 0.003, 0.5, 3, 0.001, 100, 10, 1e308]);
  });

  it("refuses '', blanks, hex, Infinity, negatives and overflow (Number() would read some as 0 or 16)", () => {
    for (const v of ['', ' ', '\t', '0x10', '0o7', '0b1', 'Infinity', '-1', '-0', '1e309', 'NaN', '1,5', '1 ', ' 1', '+1', '1e', 'e3', '.']) {
      rejects(() => parseLambda(v), `--lambda must be a decimal number ≥ 0 such as 0.003 or 1e-3, got ${JSON.stringify(v)}.`);
    }
  });
});

describe('intOption / parseRepeats', () => {
  it('reads plain integers within the bounds, refuses the rest', () => {
    const folds = intOption('--folds', 2, 50);
    expect(folds('10')).toBe(10);
    expect(folds('+3')).toBe(3);
    rejects(() => folds(''), '--folds must be an integer, got "".');
    rejects(() => folds(' '), '--folds must be an integer');
    rejects(() => folds('1e1'), '--folds must be an integer');
    rejects(() => folds('0x10'), '--folds must be an integer');
    rejects(() => folds('1'), '--folds must be an integer from 2 to 50, got 1.');
    rejects(() => intOption('--seed', 0)('-1'), '--seed must be an integer ≥ 0, got -1.');
    rejects(() => intOption('--seed')('99999999999999999999'), '--seed must be an integer');
  });

  it(`--repeats is bounded by ${MAX_REPEATS}`, () => {
    expect(parseRepeats('100')).toBe(100);
    rejects(() => parseRepeats('101'), '--repeats must be an integer from 1 to 100, got 101.');
    rejects(() => parseRepeats('0'), '--repeats must be an integer from 1 to 100, got 0.');
  });
});

describe('maxWorkers / capWorkers', () => {
  const GB = 1e9;
  it('limit = min(2 × cores, ¾ of free memory / 70 MB), at least 1', () => {
    expect(maxWorkers({ cores: 2, freeBytes: 16 * GB }).max).toBe(4);
    expect(maxWorkers({ cores: 64, freeBytes: 2 * GB })).toMatchObject({ max: Math.floor((1.5 * GB) / WORKER_BYTES), byCores: 128 });
    expect(maxWorkers({ cores: 4, freeBytes: 0 }).max).toBe(1);
    expect(maxWorkers().max).toBeGreaterThanOrEqual(1);
  });

  it('refuses more workers than the limit, naming --workers, the limit and why', () => {
    expect(capWorkers(4, { cores: 2, freeBytes: 16 * GB })).toBe(4);
    expect(() => capWorkers(1000, { cores: 2, freeBytes: 16 * GB })).toThrow(ConfigError);
    expect(() => capWorkers(1000, { cores: 2, freeBytes: 16 * GB })).toThrow(
      'option --workers: 1000 is more than this machine can run: at most 4 (2 × the 2 cores: more workers only queue for them)',
    );
    const e = (() => {
      try {
        capWorkers(1000, { cores: 64, freeBytes: 2 * GB });
      } catch (x) {
        return x as ConfigError;
      }
    })();
    expect(e?.message).toBe('option --workers: 1000 is more than this machine can run: at most 20 (2.0 GB free memory at ~73 MB per worker)');
    expect(e?.hint).toBe('use --workers 20 or fewer');
    expect(() => capWorkers(0)).toThrow(/option --workers: must be an integer ≥ 1, got 0/);
  });
});

describe('resolveWorkers applies the cap', () => {
  it('--workers 100000 is refused before any worker starts', async () => {
    const { resolveWorkers } = await import('./executor');
    expect(() => resolveWorkers(100_000)).toThrow(/^option --workers: 100000 is more than this machine can run: at most \d+/);
    expect(resolveWorkers(1)).toBe(1);
  });
});
