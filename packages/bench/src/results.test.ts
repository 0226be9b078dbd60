import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ResultsDir, defaultResultsDir, formatWallTime } from './results';

const unit = (model: string, fold: number) => ({ model, repeat: 0, fold, accuracy: 0.5, tau: null, trainSeconds: 0.1, nTrain: 9, nTest: 1 });

describe('ResultsDir', () => {
  it('writes results.json atomically and resumes with the same fingerprint', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'chainz-res-')), 'run');
    const id = { experiment: 'pima', fingerprint: 'abc' };
    const r = await ResultsDir.create(dir, id);
    r.add(unit('cr', 0));
    r.add(unit('cr', 1));
    await r.flush({ status: 'running' }, '# partial\n');
    const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc.units).toHaveLength(2);
    expect(doc.status).toBe('running');
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toBe('# partial\n');

    const again = await ResultsDir.resume(dir, id);
    expect(again.has('cr', 0, 1)).toBe(true);
    expect(again.has('cr', 0, 2)).toBe(false);
    expect(again.size).toBe(2);
  });

  it('refuses to overwrite, and refuses to resume with other settings', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'chainz-res-'));
    const r = await ResultsDir.create(dir, { experiment: 'pima', fingerprint: 'a' });
    await r.flush({}, '');
    await expect(ResultsDir.create(dir, { experiment: 'pima', fingerprint: 'a' })).rejects.toThrow(/already holds results/);
    await expect(ResultsDir.resume(dir, { experiment: 'pima', fingerprint: 'b' })).rejects.toThrow(/different settings/);
    await expect(ResultsDir.resume(dir, { experiment: 'sst5', fingerprint: 'a' })).rejects.toThrow(/holds experiment 'pima'/);
    await expect(ResultsDir.resume(path.join(dir, 'nope'), { experiment: 'pima', fingerprint: 'a' })).rejects.toThrow(/nothing to resume/);
  });

  describe('wall time across sessions', () => {
    afterEach(() => vi.restoreAllMocks());
    let now = 0;
    const read = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    const summary = (dir: string) => readFileSync(path.join(dir, 'summary.md'), 'utf8');

    it('accumulates over --resume sessions and is unchanged by a resume with nothing to do', async () => {
      vi.spyOn(performance, 'now').mockImplementation(() => now);
      const dir = path.join(mkdtempSync(path.join(tmpdir(), 'chainz-res-')), 'run');
      const id = { experiment: 'pima', fingerprint: 'abc' };
      const md = (t: Parameters<typeof formatWallTime>[0]) => `wall time ${formatWallTime(t)}\n`;

      // Session 1 starts at t = 0, computes 2 units, is interrupted after 20 s.
      now = 0;
      const first = await ResultsDir.create(dir, id, { startedAt: 0 });
      now = 5_000;
      first.add(unit('cr', 0));
      first.add(unit('cr', 1));
      now = 20_000;
      const t1 = await first.flush({ status: 'running', environment: { backend: 'cpu' } }, md);
      expect(t1.wallSeconds).toBeCloseTo(20, 9);
      let doc = read(dir);
      expect(doc.environment.backend).toBe('cpu');
      expect(doc.environment.wallSeconds).toBeCloseTo(20, 9);
      expect(doc.environment.sessions).toHaveLength(1);
      expect(doc.environment.sessions[0]).toMatchObject({ units: 2 });
      expect(Date.parse(doc.environment.sessions[0].startedAt)).not.toBeNaN();
      expect(summary(dir)).toBe('wall time 20.0 s\n');

      // Session 2 (--resume) starts at t = 100 s and computes one unit in 18.1 s: the total is 38.1 s, not 18.1 s.
      now = 100_000;
      const second = await ResultsDir.resume(dir, id, { startedAt: 100_000 });
      now = 118_100;
      second.add(unit('cr', 2));
      await second.flush({ status: 'complete', environment: { backend: 'cpu' } }, md);
      doc = read(dir);
      expect(doc.environment.wallSeconds).toBeCloseTo(38.1, 9);
      expect(doc.environment.sessions.map((s: { wallSeconds: number }) => s.wallSeconds)).toEqual([20, expect.closeTo(18.1, 9)]);
      expect(doc.environment.sessions.map((s: { units: number }) => s.units)).toEqual([2, 1]);
      expect(summary(dir)).toBe('wall time 38.1 s over 2 sessions (20.0 + 18.1 s)\n');

      // Session 3: --resume on the complete run computes nothing; the recorded time stays.
      now = 500_000;
      const third = await ResultsDir.resume(dir, id, { startedAt: 499_000 });
      const t3 = await third.flush({ status: 'complete', environment: { backend: 'cpu' } }, md);
      expect(t3.wallSeconds).toBeCloseTo(38.1, 9);
      expect(read(dir).environment.sessions).toHaveLength(2);
      expect(summary(dir)).toBe('wall time 38.1 s over 2 sessions (20.0 + 18.1 s)\n');
    });

    it('reads the single wall time of a results.json written before sessions were kept', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'chainz-res-'));
      const id = { experiment: 'pima', fingerprint: 'abc' };
      writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ ...id, units: [unit('cr', 0)], environment: { wallSeconds: 7.5 } }));
      const r = await ResultsDir.resume(dir, id);
      expect(r.time()).toEqual({ wallSeconds: 7.5, sessions: [{ startedAt: null, wallSeconds: 7.5, units: 1 }] });
    });
  });

  it('default directory is results/<experiment>/<UTC timestamp>', () => {
    const d = defaultResultsDir('/base', 'pima', new Date('2026-01-02T03:04:05.678Z'));
    expect(d).toBe(path.join('/base', 'results', 'pima', '2026-01-02T03-04-05Z'));
  });
});
