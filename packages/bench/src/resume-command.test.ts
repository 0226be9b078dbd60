import { describe, expect, it } from 'vitest';
import { resumeCommand } from './resume-command';

describe('resumeCommand (printed after Ctrl-C)', () => {
  it('keeps every option but --out, which becomes --resume', () => {
    expect(resumeCommand(['bench', 'pima', '--protocol', 'full', '--out', '/tmp/x'], '/tmp/x')).toBe('chainz bench pima --protocol full --resume /tmp/x');
    expect(resumeCommand(['--plugin', './p.mjs', 'bench', 'tabular', '--out=/r', '--dataset', 'sonar'], '/r')).toBe('chainz --plugin ./p.mjs bench tabular --dataset sonar --resume /r');
  });
  it('a run without --out (default folder) and a resumed run give the same form; odd characters are quoted', () => {
    expect(resumeCommand(['bench', 'pima', '--folds', '3'], '/home/u/results/pima/2026-12-08T01-52-50Z')).toBe('chainz bench pima --folds 3 --resume /home/u/results/pima/2026-12-08T01-52-50Z');
    expect(resumeCommand(['bench', 'tabular', '--resume', '/a b', '--data', "it's.csv"], '/a b')).toBe("chainz bench tabular --data 'it'\\''s.csv' --resume '/a b'");
  });
});
