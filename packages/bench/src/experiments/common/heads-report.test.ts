import { describe, expect, it } from 'vitest';
import { adjustPValues, pairedTTest } from '@chainz/metrics';
import { headsReport } from './heads-report';
import type { FoldRecord } from './tabular';

const MODELS = [
  { name: 'cr', description: 'cr', config: {} },
  { name: 'logreg', description: 'logreg', config: {} },
];
const rec = (model: string, encoder: string, fold: number, accuracy: number): FoldRecord => ({ model, encoder, repeat: 0, fold, accuracy, tau: 1.5, trainSeconds: 1, nTrain: 100, nTest: 50 });
const input = (expectedUnits: number) => ({
  statistics: 'seeds' as const,
  ordinal: false,
  expectedUnits,
  sizes: { nTrain: 100, nTest: 50 },
  headerLines: ['header'],
  references: [{ label: 'paper: X', short: 'paper: X', accuracy: '46.20', tau: '1.01–1.02 (claimed, all tasks)', encoder: 'BERT' }],
  paper: {},
  protocolText: 'protocol',
  notes: [],
  encoders: [
    { key: 'glove', label: 'GloVe' },
    { key: 'use-lite', label: 'USE-lite' },
  ],
});

describe('headsReport with several encoders', () => {
  it('encoder effect: paired t per head over seeds (first − other), Holm over heads', () => {
    const acc = { cr: { glove: [0.40, 0.41, 0.39], 'use-lite': [0.42, 0.425, 0.41] }, logreg: { glove: [0.38, 0.39, 0.37], 'use-lite': [0.385, 0.40, 0.38] } };
    const records = Object.entries(acc).flatMap(([m, byEnc]) => Object.entries(byEnc).flatMap(([e, xs]) => xs.map((a, s) => rec(m, e, s, a))));
    const r = headsReport(records, MODELS, input(3));
    const doc = r.doc as { encoderComparisons: { model: string; test: string; p: number; pAdjusted: number; meanDifference: number }[] };
    const t = doc.encoderComparisons.filter((c) => c.test === 'paired-t');
    const raw = (['cr', 'logreg'] as const).map((m) => pairedTTest(acc[m].glove, acc[m]['use-lite']).p);
    const holm = adjustPValues(raw, 'holm');
    expect(t.map((c) => c.model)).toEqual(['cr', 'logreg']);
    t.forEach((c, i) => {
      expect(c.p).toBeCloseTo(raw[i], 12);
      expect(c.pAdjusted).toBeCloseTo(holm[i], 12);
    });
    expect(t[0].meanDifference).toBeCloseTo((0.40 + 0.41 + 0.39 - 0.42 - 0.425 - 0.41) / 3, 12);
    expect(r.terminal).toMatch(/^\| cr +\| +40\.00 \| +41\.83 \| +−1\.83 \| /m);
    expect(r.terminal).toContain('* τ as claimed by the paper, for all tasks.');
    expect(r.terminal).toMatch(/^\| paper: X +\| BERT +\| +46\.20 \| 1\.01–1\.02\* \|/m);
  });

  it('with one seed per encoder the difference of the means is shown, without a p-value', () => {
    const records = [rec('cr', 'glove', 0, 0.3067), rec('cr', 'use-lite', 0, 0.3167), rec('logreg', 'glove', 0, 0.3267), rec('logreg', 'use-lite', 0, 0.3833)];
    const r = headsReport(records, MODELS, input(1));
    expect(r.terminal).toMatch(/^\| cr +\| +30\.67 \| +31\.67 \| +−1\.00 \| +— \|$/m);
    expect(r.terminal).toMatch(/^\| logreg +\| +32\.67 \| +38\.33 \| +−5\.66 \| +— \|$/m);
    expect((r.doc as { encoderComparisons: unknown[] }).encoderComparisons).toEqual([]);
  });
});
