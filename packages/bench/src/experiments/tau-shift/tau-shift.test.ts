import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@chainz/core';
import { defineAdapter, hasAdapter, registerAdapter } from '@chainz/data';
import { tauShiftExperiment, type TauShiftOptions } from '.';
import { runExperiment, type RunOptions } from '../../runner/run';
import { tabularDatasetNames } from '../common/tabular';
import { featureDropout, gaussianNoise, shiftRepeats, tabularShiftedSets } from './shifts';
import { correlations, formatCorrelation, shiftPoints, statement, verdict, wrap, POOLED_ALL, POOLED_DROPOUT, POOLED_NOISE, POOLED_TABULAR, type ShiftRecord } from './report';
import { TABULAR_SHIFTS } from './config';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.CHAINZ_DATA_DIR ? path.resolve(process.env.CHAINZ_DATA_DIR) : path.resolve(here, '../../../../../../shared/data');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-tau-shift-'));

/** A synthetic tabular data set registered by the test: three Gaussian blobs in 5-D (240 rows, seeded), no file. */
const blobs = defineAdapter({
  name: 'test-shift-blobs',
  describe: () => ({ name: 'test-shift-blobs', title: 'three Gaussian blobs (synthetic)', task: 'classification', source: 'generated in memory', builtIn: false, kind: 'tabular', modality: 'tabular' }) as never,
  async load() {
    const rng = new Rng(7);
    const n = 240;
    const d = 5;
    const x = new Float32Array(n * d);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 3;
      for (let j = 0; j < d; j++) x[i * d + j] = (j === y[i] ? 2.5 : 0) + rng.normal();
    }
    const features = tf.tensor2d(x, [n, d]);
    return {
      name: 'test-shift-blobs',
      task: 'classification',
      splits: { all: { features, labels: y } },
      classNames: ['a', 'b', 'c'],
      featureNames: ['x1', 'x2', 'x3', 'x4', 'x5'],
      provenance: { files: ['generated'], sha256: ['0'.repeat(64)], source: 'synthetic', licence: 'public domain', rows: { all: n } },
      dispose: () => features.dispose(),
    };
  },
});

beforeAll(async () => {
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  if (!hasAdapter(blobs.name)) registerAdapter(blobs);
});

type Opts = TauShiftOptions & RunOptions;
const run = (o: Opts) => runExperiment(tauShiftExperiment, o);
const base = (extra: Partial<Opts>): Opts => ({ dataDir, progress: 'none', backend: tf.getBackend(), workers: 1, ...extra });

describe('tabular shifts', () => {
  it('Gaussian noise adds N(0, σ²) per entry and leaves the input alone', () => {
    const x = new Float32Array(20000).fill(1);
    const out = gaussianNoise(x, 0.5, new Rng(1));
    expect(x.every((v) => v === 1)).toBe(true);
    const diff = Array.from(out, (v) => v - 1);
    const m = diff.reduce((a, b) => a + b, 0) / diff.length;
    const sd = Math.sqrt(diff.reduce((a, b) => a + (b - m) ** 2, 0) / (diff.length - 1));
    expect(Math.abs(m)).toBeLessThan(0.02);
    expect(sd).toBeGreaterThan(0.49);
    expect(sd).toBeLessThan(0.51);
    expect(gaussianNoise(x, 0, new Rng(1))).toEqual(x);
    expect(() => gaussianNoise(x, -1, new Rng(1))).toThrow(/sigma must be a finite number ≥ 0, got -1/);
  });

  it('feature dropout sets a fraction p of the entries to 0 (the training mean) and keeps the others', () => {
    const x = Float32Array.from({ length: 20000 }, (_, i) => 1 + (i % 7));
    const out = featureDropout(x, 0.25, new Rng(2));
    let zeros = 0;
    for (let i = 0; i < x.length; i++) {
      if (out[i] === 0) zeros++;
      else expect(out[i]).toBe(x[i]);
    }
    expect(zeros / x.length).toBeGreaterThan(0.24);
    expect(zeros / x.length).toBeLessThan(0.26);
    expect(featureDropout(x, 1, new Rng(2)).every((v) => v === 0)).toBe(true);
    expect(() => featureDropout(x, 1.5, new Rng(2))).toThrow(/p must be in \[0, 1\], got 1.5/);
  });

  it('levels: clean first, then every σ and p over ⌈512/n⌉ copies; the same seed gives the same draws', () => {
    const n = 100;
    const d = 3;
    const x = Float32Array.from({ length: n * d }, (_, i) => Math.sin(i));
    const sets = tabularShiftedSets(x, n, 5);
    expect(shiftRepeats(n)).toBe(6);
    expect(shiftRepeats(1000)).toBe(1);
    expect(sets.map((s) => `${s.level.family}:${s.level.strength}`)).toEqual([
      'clean:0',
      ...TABULAR_SHIFTS.gaussianNoise.map((s) => `gaussian-noise:${s}`),
      ...TABULAR_SHIFTS.featureDropout.map((p) => `feature-dropout:${p}`),
    ]);
    expect(sets[0].x).toBe(x);
    for (const s of sets.slice(1)) {
      expect(s.repeats).toBe(6);
      expect(s.x.length).toBe(6 * n * d);
    }
    // copies are independent draws of the same rows
    const noise = sets[1].x;
    expect(noise.subarray(0, n * d)).not.toEqual(noise.subarray(n * d, 2 * n * d));
    expect(tabularShiftedSets(x, n, 5)[3].x).toEqual(sets[3].x);
    expect(tabularShiftedSets(x, n, 6)[3].x).not.toEqual(sets[3].x);
  });
});

describe('tau-shift statistics', () => {
  it('wrap keeps terminal lines within the width', () => {
    expect(wrap('aaa bbb ccc ddd', 8)).toEqual(['aaa bbb', '  ccc', '  ddd']);
    expect(wrap('short', 8)).toEqual(['short']);
  });

  const level = (family: string, strength: number, tau: number | null, accuracy: number, confidence: number) => ({ family, shift: family, strength, n: 10, tau, accuracy, confidence, meanGradNorm: 1 }) as never;
  const rec = (model: string, source: string, seed: number, k: number): ShiftRecord => ({
    model,
    source,
    seed,
    unitSeed: 0,
    trainSeconds: 0,
    evalSeconds: 0,
    nTrain: 1,
    nTest: 1,
    info: {},
    // τ rises and accuracy and confidence fall with the strength (k varies the clean level)
    // (dyadic values, so the changes are exact and tie across records)
    levels: [level('clean', 0, 1 + k, 0.75 - k / 8, 0.9375), ...[1, 2, 3, 4].map((s) => level('gaussian-noise', s, (1 + k) * (1 + s / 8), 0.75 - k / 8 - s / 16, 0.9375 - s / 64))],
  });

  it('points are changes from the clean level of the same model, source and seed', () => {
    const pts = shiftPoints([rec('cr', 'a', 0, 1)]);
    expect(pts).toHaveLength(5);
    expect(pts[0]).toMatchObject({ tauRatio: 1, accuracyChange: 0, confidenceChange: 0 });
    expect(pts[2].tauRatio).toBe(1.25);
    expect(pts[2].accuracyChange).toBe(-0.125);
    expect(pts[2].confidenceChange).toBe(-1 / 32);
  });

  it('correlations per source and pooled; a perfectly monotone shift gives ρ = −1 (τ) and +1 (confidence)', () => {
    const records = [rec('cr', 'a', 0, 0), rec('cr', 'a', 1, 1), rec('cr', 'b', 0, 2), rec('cr', 'cifar10c', 0, 3)];
    const c = correlations(shiftPoints(records), ['cr'], ['cifar10c', 'a', 'b'], 0, true);
    expect(c.map((g) => g.group)).toEqual(['cifar10c', 'a', 'b', POOLED_NOISE, POOLED_DROPOUT, POOLED_TABULAR, POOLED_ALL]);
    // the dropout group has only the clean points of the tabular records here
    expect(c.find((g) => g.group === POOLED_DROPOUT)!.tau).toMatchObject({ n: 3, rho: null, note: 'fewer than 4 points' });
    const all = c.find((g) => g.group === POOLED_ALL)!;
    expect(all.tau.n).toBe(20);
    expect(all.tau.rho).toBeCloseTo(-1, 12);
    expect(all.confidence.rho).toBeCloseTo(1, 12);
    expect(all.tau.ci![0]).toBeCloseTo(-1, 12);
    expect(all.tau.ci![1]).toBeCloseTo(-1, 12);
    expect(c.find((g) => g.group === POOLED_TABULAR)!.tau.n).toBe(15);
    expect(formatCorrelation(all.tau)).toBe('−1.00 [−1.00, −1.00]');
    expect(verdict(all)).toBe('yes, higher τ went with lower accuracy; as strong as confidence (|ρ| 1.00 vs 1.00)');
    expect(statement(c, POOLED_ALL, ['cr'])).toBe(
      "over all (pooled), τ's 95% interval excluded 0 for 1 of 1 models, negative (cr) — ρ(τ, acc): cr −1.00 [−1.00, −1.00]. The confidence baseline's excluded 0 for 1 of 1; |ρ| of τ exceeded that of confidence for 0 of 1.",
    );
    // undefined τ is left out and counted; fewer than 4 points give no ρ
    const r = rec('relu-mlp', 'a', 0, 0);
    (r.levels[2] as { tau: number | null }).tau = null;
    const g = correlations(shiftPoints([r]), ['relu-mlp'], ['a'], 0, true)[0];
    expect(g.tauUndefined).toBe(1);
    expect(g.tau.n).toBe(4);
    const few = correlations(shiftPoints([{ ...r, levels: r.levels.slice(0, 3) }]), ['relu-mlp'], ['a'], 0, true)[0];
    expect(formatCorrelation(few.tau)).toBe('— (fewer than 4 points)');
    expect(verdict(few)).toBe('τ: no correlation (fewer than 4 points)');
  });
});

describe('chainz bench tau-shift (tiny end to end)', () => {
  it('tabular: Pima and a synthetic adapter — results.json, summary.md, the SVG, resume', async () => {
    expect(tabularDatasetNames()).toEqual(expect.arrayContaining(['pima', 'test-shift-blobs']));
    const dir = path.join(tmp(), 'run');
    const before = tf.memory().numTensors;
    const opts = base({ out: dir, datasets: ['pima', 'test-shift-blobs'], seeds: 1, epochs: 2, maxRows: 300 });
    const out = await run(opts);
    expect(tf.memory().numTensors).toBe(before);
    expect(out.computedUnits).toBe(8);
    const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc.status).toBe('complete');
    expect(doc.experiment).toBe('tau-shift');
    expect(doc.protocol).toMatchObject({ name: 'default', seeds: 1, tauTarget: 'predicted-ce', sources: ['pima', 'test-shift-blobs'], cifar: null, tabular: { maxRows: 300, epochs: 2 } });
    expect(doc.data.tabular.map((t: { name: string; rows: number; totalRows: number }) => [t.name, t.rows, t.totalRows])).toEqual([
      ['pima', 300, 768],
      ['test-shift-blobs', 240, 240],
    ]);
    expect(doc.units).toHaveLength(8);
    const nLevels = 1 + TABULAR_SHIFTS.gaussianNoise.length + TABULAR_SHIFTS.featureDropout.length;
    for (const u of doc.units) {
      expect(u.levels).toHaveLength(nLevels);
      expect(u.levels[0]).toMatchObject({ family: 'clean', strength: 0, n: u.nTest });
      for (const l of u.levels) {
        expect(l.accuracy).toBeGreaterThanOrEqual(0);
        expect(l.accuracy).toBeLessThanOrEqual(1);
        expect(l.tau).toBeGreaterThanOrEqual(1);
        expect(l.confidence).toBeGreaterThan(1 / 3 - 1e-6);
        expect(l.confidence).toBeLessThanOrEqual(1);
      }
      // the test part (72 or 90 rows) is shifted over ⌈512/n⌉ copies
      expect(u.levels[1].n).toBe(u.nTest * shiftRepeats(u.nTest));
    }
    expect(doc.correlations.filter((c: { model: string }) => c.model === 'cr').map((c: { group: string }) => c.group)).toEqual(['pima', 'test-shift-blobs', 'tabular noise', 'tabular dropout', 'tabular (pooled)']);
    expect(doc.verdicts[0]).toMatchObject({ model: 'cr', group: 'tabular (pooled)' });
    expect(doc.statements[0]).toMatch(/^over tabular \(pooled\), τ's 95% interval excluded 0 for \d of 4 models/);
    for (const c of doc.correlations) {
      if (c.tau.rho !== null) expect(c.tau.ci).toHaveLength(2);
    }
    const md = readFileSync(path.join(dir, 'summary.md'), 'utf8');
    expect(md).toContain('## Did τ predict accuracy under shift?');
    expect(md).toContain('paper (claim): τ (p99/mean of per-sample gradient norms) is "a deployment-time proxy for model reliability"');
    expect(md).toContain('REDUCED (default protocol');
    expect(md).toMatch(/\| noise σ +\| +0\.25 \|/);
    expect(out.report.terminal).toMatch(/\| cr +\| tabular \(pooled\) +\| +22 \|/);
    expect(out.report.terminal).toMatch(/\| cr +\| tabular noise +\| +12 \|/);
    expect(out.report.terminal).not.toContain('all (pooled)');
    for (const line of out.report.terminal.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    const svg = readFileSync(path.join(dir, 'tau-vs-accuracy.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Gaussian feature noise');
    expect(svg).toContain('feature dropout');

    // Simulate a crash after 3 units and resume: the same numbers.
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ ...doc, status: 'running', units: doc.units.slice(0, 3) }));
    const resumed = await run({ ...opts, out: undefined, resume: dir });
    expect(resumed.computedUnits).toBe(5);
    const doc2 = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    const levels = (d: { units: { model: string; source: string; levels: unknown }[] }) => Object.fromEntries(d.units.map((u) => [`${u.model}/${u.source}`, u.levels]));
    const strip = (v: unknown) => JSON.parse(JSON.stringify(v));
    expect(strip(levels(doc2))).toEqual(strip(levels(doc)));
    expect(doc2.correlations).toEqual(doc.correlations);
    await expect(run({ ...opts, out: undefined, resume: dir, tauTarget: 'logit-margin' })).rejects.toThrow(/different settings/);
  }, 180_000);

  it('cifar10c: one corruption at two severities, the logit-margin target', async () => {
    const dir = path.join(tmp(), 'run');
    const out = await run(
      base({ out: dir, datasets: ['cifar10c'], trainSize: 100, testSize: 20, corruptions: ['contrast'], severities: [1, 5], seeds: 2, epochs: 1, models: ['cr', 'relu-mlp'], tauTarget: 'logit-margin', cacheDir: tmp() }),
    );
    expect(out.computedUnits).toBe(4);
    const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc.protocol).toMatchObject({ tauTarget: 'logit-margin', cifar: { trainSize: 100, testSize: 20, corruptions: ['contrast'], severities: [1, 5], source: 'regenerated' }, tabular: null });
    expect(doc.models[0].config.tauTarget).toBe('logit-margin');
    for (const u of doc.units) {
      expect(u.source).toBe('cifar10c');
      expect(u.levels.map((l: { shift: string; strength: number }) => `${l.shift}:${l.strength}`)).toEqual(['none:0', 'contrast:1', 'contrast:5']);
      expect(u.levels.every((l: { n: number }) => l.n === 20)).toBe(true);
    }
    const cr = doc.correlations.find((c: { model: string; group: string }) => c.model === 'cr' && c.group === 'cifar10c');
    expect(cr.tau.n).toBe(6);
    expect(readFileSync(path.join(dir, 'tau-vs-accuracy.svg'), 'utf8')).toContain('CIFAR-10-C corruptions');
  }, 120_000);

  it('bad options are named and write nothing', async () => {
    const out = path.join(tmp(), 'out');
    const o = (extra: Partial<Opts>) => base({ out, datasets: ['pima'], seeds: 1, epochs: 1, ...extra });
    await expect(run(o({ tauTarget: 'gradient' as never }))).rejects.toThrow(/option --tau-target: must be one of predicted-ce, logit-margin, got 'gradient'/);
    await expect(run(o({ datasets: ['pima', 'nope'] }))).rejects.toThrow(/option --datasets: unknown data set 'nope'; choose cifar10c or a tabular data set: .*pima/);
    await expect(run(o({ datasets: ['sst5'] }))).rejects.toThrow(/option --datasets: 'sst5' is not a tabular data set/);
    await expect(run(o({ datasets: ['pima', 'pima'] }))).rejects.toThrow(/option --datasets: names pima more than once/);
    await expect(run(o({ severities: [3] }))).rejects.toThrow(/option --severities: applies to cifar10c, which --datasets leaves out/);
    await expect(run(o({ models: ['svm-rbf'] }))).rejects.toThrow(/option --models: unknown model\(s\) svm-rbf; choose from cr, cr-nodreg, relu-mlp, gelu-mlp/);
    await expect(run(o({ maxRows: 5 }))).rejects.toThrow(/option --max-rows: must be an integer ≥ 20, got 5/);
    await expect(run(o({ seeds: 0 }))).rejects.toThrow(/option --seeds/);
    await expect(run(o({ lambda: -1 }))).rejects.toThrow(/option --lambda/);
    await expect(run(o({ datasets: ['cifar10c'], corruptions: ['rain'] }))).rejects.toThrow(/option --corruptions/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
