import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IoError } from '@chainz/core';

// A simulated disk: `mode` makes every FileHandle.write of this file's writes fail
// the way a full disk does — with ENOSPC, or by storing fewer bytes than asked
// (the short write a full tmpfs gives before its ENOSPC).
const disk = vi.hoisted(() => ({ mode: 'ok' as 'ok' | 'enospc' | 'short' | 'zero', cap: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fsp = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof fsp.open = async (...args: Parameters<typeof fsp.open>) => {
    const fh = await fsp.open(...args);
    if (disk.mode === 'ok') return fh;
    const write = fh.write.bind(fh) as (b: Buffer, o: number, l: number, p: number) => Promise<{ bytesWritten: number; buffer: Buffer }>;
    (fh as unknown as { write: typeof write }).write = async (b, o, l, p) => {
      if (disk.mode === 'enospc') throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      // at most `cap` bytes in the file; past that, writes store nothing (or fail, as the next write does on Linux)
      const room = Math.max(0, disk.cap - p);
      if (room === 0) {
        if (disk.mode === 'zero') return { bytesWritten: 0, buffer: b };
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      }
      return write(b, o, Math.min(l, room), p);
    };
    return fh;
  };
  return { ...fsp, open, default: { ...fsp, open } };
});

const { writeFileAtomically, writeJsonAtomically, isStaleTempFile } = await import('./io');

const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-io-'));

describe('writeFileAtomically on a full disk', () => {
  afterEach(() => {
    disk.mode = 'ok';
  });

  for (const mode of ['enospc', 'short', 'zero'] as const) {
    it(`${mode}: throws one IoError naming the file and errno, keeps the last good file, leaves no temp file`, async () => {
      const dir = tmp();
      const file = path.join(dir, 'results.json');
      await writeJsonAtomically(file, { units: [1, 2] });
      const good = readFileSync(file, 'utf8');

      disk.mode = mode;
      disk.cap = 10; // the new content is longer than 10 bytes: a short write
      const err = await writeJsonAtomically(file, { units: [1, 2, 3, 4, 5, 6] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(IoError);
      const io = err as IoError;
      expect(io.code).toBe('E_IO');
      expect(io.errno).toBe(mode === 'zero' ? 'ESHORTWRITE' : 'ENOSPC');
      expect(io.location.file).toBe(file);
      expect(io.message).toBe(
        mode === 'zero'
          ? `${file}: cannot write (ESHORTWRITE: short write); the previous version of the file, if any, is unchanged`
          : `${file}: cannot write (ENOSPC: no space left on device); the previous version of the file, if any, is unchanged`,
      );
      expect(readFileSync(file, 'utf8')).toBe(good);
      expect(readdirSync(dir)).toEqual(['results.json']);
    });
  }

  it('a first write that fails leaves no file at all', async () => {
    const dir = tmp();
    disk.mode = 'short';
    disk.cap = 3;
    await expect(writeFileAtomically(path.join(dir, 'summary.md'), '# a longer summary\n')).rejects.toThrow(IoError);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes the whole content when the disk has room, also for large data', async () => {
    const dir = tmp();
    const file = path.join(dir, 'big.bin');
    const data = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => i & 0xff);
    await writeFileAtomically(file, data.subarray(5));
    expect(Buffer.compare(readFileSync(file), Buffer.from(data.subarray(5)))).toBe(0);
    expect(readdirSync(dir)).toEqual(['big.bin']);
  });

  it('writes to one path are serialised: the last call wins', async () => {
    const dir = tmp();
    const file = path.join(dir, 'r.json');
    await Promise.all(Array.from({ length: 8 }, (_, i) => writeJsonAtomically(file, { i })));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ i: 7 });
  });

  it('an unwritable folder is an IoError naming the folder', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'file'), 'x');
    const err = await writeFileAtomically(path.join(dir, 'file', 'sub', 'a.json'), '{}').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).message).toMatch(/cannot create the folder \((EEXIST|ENOTDIR)/);
  });
});

describe('isStaleTempFile', () => {
  it('matches the temp files of an interrupted write, nothing else', () => {
    for (const n of ['results.json.tmp-123-4', 'results.json.2964117025', 'summary.md.12', 'heatmap.svg.99']) expect(isStaleTempFile(n), n).toBe(true);
    for (const n of ['results.json', 'summary.md', 'run.1', '.lock', 'fold.2.json', '.chainz-lock.json.1']) expect(isStaleTempFile(n), n).toBe(false);
  });
});
