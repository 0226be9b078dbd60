import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IoError } from '@chainz/core';
import { writeJsonAtomically } from './io';
import { ResultsDir } from './results';

// A real full disk: a 64 KiB tmpfs. Needs root on Linux (CI runs as root);
// elsewhere the suite is skipped and io.test.ts covers the same paths with a
// simulated file system.
const root = mkdtempSync(path.join(tmpdir(), 'chainz-full-'));
const mnt = path.join(root, 'disk');
mkdirSync(mnt);
const mounted =
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' }).status === 0;
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');

/** Leave about `free` bytes on the tmpfs. */
function fill(free: number): void {
  for (const f of readdirSync(mnt)) rmSync(path.join(mnt, f), { recursive: true, force: true });
  writeFileSync(path.join(mnt, 'fill'), Buffer.alloc(64 * 1024 - free));
}

describe.skipIf(!mounted)('a full disk (64 KiB tmpfs)', () => {
  beforeAll(() => fill(16 * 1024));
  afterAll(() => {
    spawnSync('umount', [mnt], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  });

  it('a growing results file: the write that does not fit is an IoError ENOSPC, the last good file stays', async () => {
    fill(16 * 1024);
    const file = path.join(mnt, 'results.json');
    let last = '';
    let err: unknown;
    for (let n = 1; n < 100 && err === undefined; n++) {
      try {
        await writeJsonAtomically(file, { units: Array.from({ length: n * 40 }, (_, i) => ({ model: 'cr', fold: i, accuracy: 0.5 })) });
        last = readFileSync(file, 'utf8');
      } catch (e) {
        err = e;
      }
    }
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).errno).toBe('ENOSPC');
    expect(last.length).toBeGreaterThan(0);
    expect(readFileSync(file, 'utf8')).toBe(last);
    expect(() => JSON.parse(last)).not.toThrow();
    expect(readdirSync(mnt).sort()).toEqual(['fill', 'results.json']);
  });

  it('ResultsDir.flush fails with the IoError and the folder resumes from the last good flush', async () => {
    fill(12 * 1024);
    const dir = path.join(mnt, 'run');
    const id = { experiment: 'pima', fingerprint: 'f' };
    const r = await ResultsDir.create(dir, id);
    let flushed = 0;
    let err: unknown;
    for (let fold = 0; fold < 200 && err === undefined; fold++) {
      r.add({ model: 'cr', repeat: 0, fold, accuracy: 0.5, tau: 1, trainSeconds: 0.1, nTrain: 9, nTest: 1 });
      try {
        await r.flush({ status: 'running' }, '# summary\n');
        flushed = fold + 1;
      } catch (e) {
        err = e;
      }
    }
    await r.close();
    expect(err).toBeInstanceOf(IoError);
    expect(flushed).toBeGreaterThan(0);
    const again = await ResultsDir.resume(dir, id);
    expect(again.size).toBe(flushed);
    await again.close();
  });

  it.skipIf(!existsSync(cli))('chainz bench pima on the full disk: exit 1, one error line naming results.json and ENOSPC, last good results.json kept; --resume completes it once there is room', async () => {
    fill(16 * 1024);
    const out = path.join(mnt, 'run');
    // asynchronously: a synchronous spawn would block this test worker for the whole run
    const chainz = (extra: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cli, 'bench', 'pima', '--folds', '3', '--models', 'logreg', '--no-progress', '--workers', '1', ...extra], {
          env: { ...process.env, CHAINZ_BACKEND: 'cpu' },
          timeout: 120_000,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const r = await chainz(['--out', out]);
    expect(r.status, r.stderr).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('chainz: '));
    expect(errors).toEqual([expect.stringMatching(/^chainz: IoError: .*run\/results\.json: cannot write \(ENOSPC: no space left on device\)/)]);
    expect(r.stdout).not.toMatch(/Results:/);
    // The kept file is a good one from before the failing write: valid JSON, never marked complete
    // (the complete document, with its summary, is what did not fit).
    const doc = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(doc.status).toBe('running');
    expect(doc.units.length).toBeGreaterThan(0);
    expect(doc.units.length).toBeLessThanOrEqual(3);
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // Room again: the same command with --resume finishes the run from what was kept.
    rmSync(path.join(mnt, 'fill'));
    const again = await chainz(['--resume', out]);
    expect(again.status, again.stderr).toBe(0);
    const final = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(final.status).toBe('complete');
    expect(final.units.length).toBe(3);
    expect(final.units.slice(0, doc.units.length)).toEqual(doc.units);
  });
});
