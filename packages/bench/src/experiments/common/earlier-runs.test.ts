import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findEarlierEncoderRuns, type EarlierRunQuery } from './earlier-runs';

const unit = (model: string, fold: number, accuracy: number, extra: Record<string, unknown> = {}) => ({ model, repeat: 0, fold, accuracy, tau: 1.5, trainSeconds: 1, nTrain: 10, nTest: 5, ...extra });
const CR = { hidden: [8], activation: 'poly' };
const LOGREG = { hidden: [], activation: 'relu' };
const PROTOCOL = { kind: 'fixed split, seeds', seeds: 2, seed: 0, pooling: 'mean' };

/** A results folder `root/name` whose results.json was last written at `time` (seconds). */
function run(root: string, name: string, doc: Record<string, unknown>, time: number): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'results.json');
  writeFileSync(file, JSON.stringify({ status: 'complete', experiment: 'sst5', data: { provenance: { sha256: ['aa', 'bb'] } }, ...doc }));
  utimesSync(file, time, time);
  return dir;
}

describe('findEarlierEncoderRuns', () => {
  it('takes, per other encoder, the latest completed run with the same protocol, data and head configurations', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'chainz-earlier-'));
    const single = (encoder: string, accuracy: number) => ({
      protocol: { ...PROTOCOL, encoder },
      models: [{ name: 'cr', config: CR }, { name: 'logreg', config: LOGREG }],
      units: [unit('cr', 0, accuracy), unit('cr', 1, accuracy), unit('logreg', 0, 0.3), unit('logreg', 1, 0.3)],
    });
    const old = run(root, 'a-old', single('use-lite:1111', 0.4), 1000);
    const latest = run(root, 'b-latest', single('use-lite:1111', 0.45), 2000);
    run(root, 'c-running', { ...single('use-lite:1111', 0.9), status: 'running' }, 3000);
    run(root, 'd-other-protocol', { ...single('use-lite:1111', 0.9), protocol: { ...PROTOCOL, seeds: 3, encoder: 'use-lite:1111' } }, 3000);
    run(root, 'e-other-data', { ...single('use-lite:1111', 0.9), data: { provenance: { sha256: ['aa', 'cc'] } } }, 3000);
    run(root, 'f-other-experiment', { ...single('use-lite:1111', 0.9), experiment: 'yelp' }, 3000);
    run(root, 'g-same-encoder', single('glove:2222:mean:tok1', 0.9), 3000);
    // A two-encoder run: its use-lite units are older than b-latest; its precomputed ones are the only ones; logreg had another configuration.
    const multi = run(
      root,
      'h-multi',
      {
        protocol: { ...PROTOCOL, encoders: ['use-lite:1111', 'precomputed:3333'] },
        data: { provenance: { sha256: ['aa', 'bb'] }, encoders: [{ key: 'use-lite', id: 'use-lite:1111' }, { key: 'vecs', id: 'precomputed:3333' }] },
        models: [
          { name: 'cr', encoder: 'use-lite', config: CR },
          { name: 'cr', encoder: 'vecs', config: CR },
          { name: 'logreg', encoder: 'vecs', config: { ...LOGREG, epochs: 99 } },
        ],
        units: [unit('cr', 0, 0.2, { encoder: 'use-lite' }), unit('cr', 0, 0.6, { encoder: 'vecs' }), unit('cr', 1, 0.7, { encoder: 'vecs' }), unit('logreg', 0, 0.1, { encoder: 'vecs' })],
      },
      1500,
    );
    mkdirSync(path.join(root, 'no-results'));
    writeFileSync(path.join(root, 'not-a-folder.json'), '{');
    const query: EarlierRunQuery = {
      root,
      exclude: [],
      experiment: 'sst5',
      protocol: { ...PROTOCOL, encoder: 'glove:2222:mean:tok1' },
      dataSha256: ['aa', 'bb'],
      encoder: 'glove',
      models: [{ name: 'cr', config: CR }, { name: 'logreg', config: LOGREG }],
    };
    const found = findEarlierEncoderRuns(query);
    expect(found.map((r) => [r.encoder, r.encoderId, r.dir])).toEqual([
      ['use-lite', 'use-lite:1111', latest],
      ['vecs', 'precomputed:3333', multi],
    ]);
    expect(found[0].units.map((u) => u.accuracy)).toEqual([0.45, 0.45, 0.3, 0.3]);
    expect(found[1].units).toEqual([unit('cr', 0, 0.6), unit('cr', 1, 0.7)]); // logreg's configuration differs; no encoder field
    expect(found[0].finishedAt).toBe(new Date(2000_000).toISOString());
    // this run's own folder and other heads' settings are left out
    expect(findEarlierEncoderRuns({ ...query, exclude: [latest] }).find((r) => r.encoder === 'use-lite')?.dir).toBe(multi);
    expect(findEarlierEncoderRuns({ ...query, models: [{ name: 'cr', config: { ...CR, hidden: [16] } }] })).toEqual([]);
    expect(findEarlierEncoderRuns({ ...query, root: path.join(root, 'missing') })).toEqual([]);
    expect(old).not.toBe(latest);
  });
});

describe('findEarlierEncoderRuns: when a run finished', () => {
  it('is the end of its last session (a later --resume that only re-renders does not make it newer)', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'chainz-earlier-'));
    const doc = (accuracy: number, end: string | null) => ({
      protocol: { ...PROTOCOL, encoder: 'use-lite:1111' },
      models: [{ name: 'cr', config: CR }],
      units: [unit('cr', 0, accuracy)],
      environment: end ? { sessions: [{ startedAt: end, wallSeconds: 60 }] } : {},
    });
    run(root, 'rerendered', doc(0.1, '2026-01-01T10:00:00.000Z'), 5000); // written last, but finished first
    const later = run(root, 'later', doc(0.2, '2026-01-02T10:00:00.000Z'), 4000);
    const found = findEarlierEncoderRuns({ root, exclude: [], experiment: 'sst5', protocol: { ...PROTOCOL, encoder: 'glove:2' }, dataSha256: ['aa', 'bb'], encoder: 'glove', models: [{ name: 'cr', config: CR }] });
    expect(found.map((r) => [r.dir, r.finishedAt])).toEqual([[later, '2026-01-02T10:01:00.000Z']]);
  });
});
