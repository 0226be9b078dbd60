import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IoError } from '@chainz/core';
import { makeFolder, reserveFolder } from './io';

describe('makeFolder', () => {
  it('creates missing parents one level at a time and accepts an existing folder', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'chainz-mk-'));
    try {
      const deep = path.join(root, 'a', 'b', 'c');
      await makeFolder(deep);
      expect(statSync(deep).isDirectory()).toBe(true);
      await makeFolder(deep);
      await Promise.all([makeFolder(path.join(root, 'x', 'y')), makeFolder(path.join(root, 'x', 'y'))]);
      expect(existsSync(path.join(root, 'x', 'y'))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a path under a file is an IoError ENOTDIR naming the file', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'chainz-mk-'));
    try {
      const file = path.join(root, 'f');
      writeFileSync(file, 'x');
      const err = await makeFolder(path.join(file, 'sub')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IoError);
      expect((err as IoError).errno).toBe('ENOTDIR');
      expect((err as Error).message).toContain(file);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  // Node's own recursive mkdir never returns here (it retries the ENOENT forever).
  it.skipIf(process.platform !== 'linux' || !existsSync('/proc/self'))('a folder the file system refuses (under /proc) fails at once with an IoError', async () => {
    const err = await makeFolder('/proc/chainz-test/run').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as Error).message).toMatch(/\/proc\/chainz-test.*cannot create the folder \(ENOENT/);
  }, 5000);
});

describe('reserveFolder', () => {
  it('gives every caller its own new folder: dir, dir-2, dir-3 (also when racing)', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'chainz-res-'));
    try {
      const dir = path.join(root, 'results', 'pima', '2026-12-08T01-52-50Z');
      const got = await Promise.all([reserveFolder(dir), reserveFolder(dir), reserveFolder(dir)]);
      expect([...got].sort()).toEqual([dir, `${dir}-2`, `${dir}-3`]);
      expect(await reserveFolder(dir)).toBe(`${dir}-4`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
