import { describe, expect, it } from 'vitest';
import { ConfigError } from '@chainz/core';
import { capWorkers, maxWorkers, WORKER_BYTES } from './worker-limit';

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
