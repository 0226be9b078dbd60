import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ResultsDir, defaultResultsDir } from './results';

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

  it('default directory is results/<experiment>/<UTC timestamp>', () => {
    const d = defaultResultsDir('/base', 'pima', new Date('2026-01-02T03:04:05.678Z'));
    expect(d).toBe(path.join('/base', 'results', 'pima', '2026-01-02T03-04-05Z'));
  });
});
