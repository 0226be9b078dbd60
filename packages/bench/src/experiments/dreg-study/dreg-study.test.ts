import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng } from '@chainz/core';
import { describeBackends } from '@chainz/core/test';
import { createRegularizer } from '@chainz/dreg';
import { defineAdapter, registerAdapter, type LoadedDataset } from '@chainz/data';
import { drive } from '../../models/train';
import { runExperiment } from '../../runner/run';
import { BUILTIN_EXPERIMENTS } from '../index';
import { dregStudyExperiment } from '.';
import { cappedStratifiedRows } from '../common/tabular';
import { STUDY_REGULARIZERS, type StudyActivation, type StudyRegularizer } from './config';
import { STUDY_MODEL_NAMES } from './models';
import { StudyNet, trainStudyNet } from './network';
import { judgeClaims, minimumWilcoxonP, studyAnalyses, studyReport, type StudyRecord } from './report';
import { DEFAULT_NETWORK } from './config';

const root = mkdtempSync(path.join(tmpdir(), 'chainz-dreg-study-'));
const tmp = () => mkdtempSync(path.join(root, 'd-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Three Gaussian blobs in 4-D (120 rows), as a plugin-style tabular adapter. */
function blobs(n = 120, seed = 7): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = (j === y[i] ? 2 : 0) + rng.normal();
  }
  return { x, y };
}

const SYNTH = defineAdapter({
  name: 'study-blobs',
  describe: () => ({ name: 'study-blobs', title: 'three Gaussian blobs (test)', task: 'classification' as const, source: 'generated', builtIn: true, modality: 'tabular' }),
  load: async (): Promise<LoadedDataset> => {
    const { x, y } = blobs();
    const features = tf.tensor2d(x, [y.length, 4]);
    return {
      name: 'study-blobs',
      task: 'classification',
      splits: { all: { features, labels: y } },
      classNames: ['a', 'b', 'c'],
      featureNames: ['f1', 'f2', 'f3', 'f4'],
      provenance: { files: ['generated'], sha256: ['blobs-120-seed-7'], source: 'generated', licence: 'none' },
      dispose: () => features.dispose(),
    };
  },
});
registerAdapter(SYNTH);

describe('dreg-study: registry and helpers', () => {
  it('is a built-in experiment with the 24 models, activation-major', () => {
    expect(BUILTIN_EXPERIMENTS).toContain(dregStudyExperiment);
    expect(STUDY_MODEL_NAMES).toHaveLength(24);
    expect(STUDY_MODEL_NAMES.slice(0, 6)).toEqual(['cr-none', 'cr-wd', 'cr-igp', 'cr-sn', 'cr-jrp', 'cr-dreg']);
    expect(dregStudyExperiment.models({}).map((m) => m.name)).toEqual(STUDY_MODEL_NAMES);
    const m = dregStudyExperiment.models({ activations: ['gelu'], regularizers: ['dreg', 'none'] });
    expect(m.map((x) => x.name)).toEqual(['gelu-none', 'gelu-dreg']);
    expect(m[1].config).toMatchObject({ activation: 'gelu', regularizer: { kind: 'dreg', dreg: { variant: 'frobenius', lambda: 10 ** -2.5 } } });
  });

  it('cappedStratifiedRows: about maxRows rows, classes in proportion, at least 5 of a rare class, seeded', () => {
    const y = new Int32Array(2000);
    for (let i = 0; i < 2000; i++) y[i] = i < 10 ? 2 : i % 2; // class 2 has 10 rows (0.5%)
    const rows = cappedStratifiedRows(y, 200, 5, 1);
    const count = (c: number) => Array.from(rows).filter((i) => y[i] === c).length;
    expect(count(2)).toBe(5); // round(10·0.1) = 1, raised to 5
    expect(count(0)).toBe(100);
    expect(count(1)).toBe(100);
    expect(Array.from(rows)).toEqual([...rows].sort((a, b) => a - b));
    expect(cappedStratifiedRows(y, 200, 5, 1)).toEqual(rows);
    expect(cappedStratifiedRows(y, 200, 5, 2)).not.toEqual(rows);
    expect(cappedStratifiedRows(y, 5000, 5, 1)).toHaveLength(2000);
  });

  it('minimumWilcoxonP is 2/2^N (N = 6 reaches the paper\'s 0.031, N = 5 cannot)', () => {
    expect(minimumWilcoxonP(6)).toBeCloseTo(0.03125, 10);
    expect(minimumWilcoxonP(5)).toBeGreaterThan(0.031);
  });
});

/** Records of a made-up study: `clean(d, act, reg)` and `noise(d, act, reg)` give the scores. */
function fakeRecords(datasets: string[], score: (d: number, a: StudyActivation, r: StudyRegularizer, metric: 'clean' | 'noise') => number): StudyRecord[] {
  const out: StudyRecord[] = [];
  datasets.forEach((dataset, d) => {
    for (const a of ['cr', 'relu', 'gelu', 'tanh'] as StudyActivation[]) {
      for (const r of STUDY_REGULARIZERS) {
        const noise = score(d, a, r, 'noise');
        out.push({ model: `${a}-${r}`, dataset, repeat: 0, fold: 0, accuracy: score(d, a, r, 'clean'), noisyAccuracy: [noise + 0.01, noise, noise - 0.01], noiseAccuracy: noise, tau: 1.05, trainSeconds: 1, nTrain: 80, nTest: 20 });
      }
    }
  });
  return out;
}

describe('dreg-study: statistics and the paper\'s claims', () => {
  const ds = Array.from({ length: 8 }, (_, i) => `d${i}`);
  const base = (d: number, r: StudyRegularizer) => 0.7 + 0.01 * d + 0.0001 * STUDY_REGULARIZERS.indexOf(r) * ((d % 3) - 1); // small, mixed differences
  const grid = { activations: 4, regularizers: 6, datasets: 8, seeds: 1, fullRuns: 960, fullDatasets: 8 };

  it('claims 1 and 2 hold when DREG is best on every data set and second to spectral normalisation under noise', () => {
    // DREG's margin grows with the data set, so no two |differences| tie (exact test)
    const recs = fakeRecords(ds, (d, a, r, m) => (m === 'clean' ? base(d, r) + (r === 'dreg' ? 0.01 + 0.003 * d : 0) : base(d, r) + (r === 'sn' ? 0.05 : r === 'dreg' ? 0.03 : 0)));
    const names = STUDY_MODEL_NAMES as string[];
    const analyses = studyAnalyses(recs, names, ds, 1);
    expect(analyses.map((a) => `${a.scope}/${a.metric}`)).toEqual(['cr/clean', 'relu/clean', 'gelu/clean', 'tanh/clean', 'pooled/clean', 'cr/noise', 'relu/noise', 'gelu/noise', 'tanh/noise', 'pooled/noise']);
    const pooled = analyses.find((a) => a.scope === 'pooled' && a.metric === 'clean')!;
    expect(pooled.averageRanks![pooled.methods.indexOf('dreg')]).toBe(1);
    // DREG wins on all 8 data sets against each: exact Wilcoxon p = 2/2^8
    for (const c of pooled.comparison!.control!.comparisons) expect(c.wilcoxon.p).toBeCloseTo(2 / 256, 6);
    const claims = judgeClaims(analyses, grid);
    expect(claims.map((c) => c.verdict)).toEqual(['holds', 'holds', 'reduced grid here']);
    expect(judgeClaims(analyses, { ...grid, seeds: 5 })[2].verdict).toBe('same design (8 data sets, 5 seeds)');
    expect(claims[1].ours).toMatch(/^pooled noise ranks \(N = 8\): sn 1\.00, dreg 2\.00/);
    expect(claims[2].ours).toBe('this run 192 = 4 × 6 × 8 × 1; --protocol full 960 = 4 × 6 × 8 × 5');
  });

  it('claim 1 partly holds when DREG wins only on cr networks; claim 2 fails when DREG is first under noise', () => {
    const recs = fakeRecords(ds, (d, a, r, m) => (m === 'clean' ? base(d, r) + (r === 'dreg' && a === 'cr' ? 0.02 : r === 'dreg' ? -0.02 : 0) : base(d, r) + (r === 'dreg' ? 0.05 : 0)));
    const claims = judgeClaims(studyAnalyses(recs, STUDY_MODEL_NAMES as string[], ds, 1), grid);
    expect(claims[0].verdict).toBe('partly holds');
    expect(claims[0].ours).toContain('cr: DREG rank 1/6');
    expect(claims[0].ours).toContain('relu: DREG rank 6/6');
    expect(claims[1].verdict).toBe('does not hold');
  });

  it('with 5 data sets claim 1 cannot be tested (p ≥ 0.0625) and an incomplete data set is left out', () => {
    const five = ds.slice(0, 5);
    const recs = fakeRecords(five, (d, a, r) => base(d, r) + (r === 'dreg' ? 0.02 : 0));
    const analyses = studyAnalyses(recs.filter((r) => !(r.dataset === 'd4' && r.model === 'tanh-sn')), STUDY_MODEL_NAMES as string[], five, 1);
    expect(analyses.find((a) => a.scope === 'cr')!.datasets).toHaveLength(5);
    expect(analyses.find((a) => a.scope === 'tanh')!.datasets).toEqual(['d0', 'd1', 'd2', 'd3']);
    expect(analyses.find((a) => a.scope === 'pooled')!.datasets).toHaveLength(4);
    const claims = judgeClaims(analyses, grid);
    expect(claims[0].verdict).toBe('not testable here');
    expect(claims[0].ours).toContain('(N = 5: p ≥ .063)');
  });

  it('one data set: ranks and tables, no tests; the terminal stays within 120 columns', () => {
    const recs = fakeRecords(['pima'], (d, a, r) => base(d, r));
    const models = STUDY_MODEL_NAMES.map((name) => ({ name, description: '', config: {} }));
    const rep = studyReport(recs, 'complete', models, {
      datasets: [{ name: 'pima', rows: 500, totalRows: 768, features: 8, classes: 2, smallestClass: 174 }],
      skipped: [{ name: 'glass', reason: 'not found' }],
      seeds: 1,
      protocolName: 'default',
      maxRows: 500,
      network: DEFAULT_NETWORK,
      seed: 0,
    });
    expect(rep.plots).toEqual([]);
    expect(rep.terminal).toContain('needs at least 2 complete data sets (have 1)');
    expect(rep.terminal).toContain('DREG vs each regulariser: no tests (they need at least 2 complete data sets).');
    expect(rep.terminal).toContain('→ not testable here');
    expect(rep.terminal).toContain('Skipped (data not found): glass');
    expect(rep.terminal).toContain('--protocol full: 4 × 6 × 2 × 5 = 240 runs');
    for (const line of rep.terminal.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
  });
});

describeBackends(['wasm'], () => {
  it('every regulariser trains on cr and gelu networks with finite losses, its penalty where expected, no tensor left', () => {
    const { x, y } = blobs(60, 3);
    const xt = tf.tensor2d(x, [60, 4]);
    const t = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(y, 'int32'), 3), 'float32') as tf.Tensor2D);
    const cfg = { ...DEFAULT_NETWORK, hidden: [6, 5], epochs: 2, batchSize: 32 };
    const specs = { none: 'none', wd: 'weight-decay', igp: 'input-gradient', sn: 'spectral-norm', jrp: 'jacobian-projection', dreg: 'dreg' } as const;
    for (const act of ['cr', 'gelu'] as const) {
      for (const r of STUDY_REGULARIZERS) {
        const before = tf.memory().numTensors;
        const reg = createRegularizer(specs[r]);
        const net = new StudyNet(act, cfg, 4, 3, 11);
        const st = drive(trainStudyNet(net, reg, xt, t, 5, { x: xt, targets: t }));
        expect(Number.isFinite(st.finalTaskLoss), `${act}-${r}`).toBe(true);
        expect(st.steps).toBe(4);
        if (r === 'none' || r === 'sn') expect(st.finalPenalty, `${act}-${r}`).toBe(0);
        else expect(st.finalPenalty, `${act}-${r}`).toBeGreaterThan(0);
        if (r === 'sn') {
          // evaluation kernels are W/σ_max(W): their largest singular value is ≈ 1 (one power iteration from the trained u)
          const W = net.layers[0].kernel as tf.Tensor2D;
          const Wn = reg.kernel(W, { layer: 0, step: 0, training: false });
          const s = tf.tidy(() => {
            let v = tf.ones([6, 1]) as tf.Tensor2D; // W0 is [4, 6]
            for (let i = 0; i < 50; i++) v = tf.div(tf.matMul(tf.transpose(Wn), tf.matMul(Wn, v)), tf.norm(tf.matMul(tf.transpose(Wn), tf.matMul(Wn, v))));
            return tf.norm(tf.matMul(Wn, v)).dataSync()[0];
          });
          Wn.dispose();
          expect(s).toBeGreaterThan(0.9);
          expect(s).toBeLessThan(1.1);
        }
        net.dispose();
        reg.dispose();
        expect(tf.memory().numTensors, `${act}-${r}`).toBe(before);
      }
    }
    tf.dispose([xt, t]);
  }, 60_000);

  it('chainz bench dreg-study (tiny): 2 data sets incl. a plugin adapter, 2 activations × 3 regularisers; results, summary, CD diagrams; resume', async () => {
    const dir = path.join(tmp(), 'run');
    const opts = {
      datasets: ['pima', 'study-blobs'],
      activations: ['cr', 'gelu'] as StudyActivation[],
      regularizers: ['none', 'sn', 'dreg'] as StudyRegularizer[],
      seeds: 1,
      maxRows: 150,
      epochs: 3,
      progress: 'none' as const,
      backend: tf.getBackend(),
      workers: 1,
    };
    const before = tf.memory().numTensors;
    const out = await runExperiment(dregStudyExperiment, { ...opts, out: dir });
    expect(tf.memory().numTensors).toBe(before);
    const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc.status).toBe('complete');
    expect(doc.units).toHaveLength(12);
    expect(doc.models.map((m: { name: string }) => m.name)).toEqual(['cr-none', 'cr-sn', 'cr-dreg', 'gelu-none', 'gelu-sn', 'gelu-dreg']);
    expect(doc.protocol).toMatchObject({ name: 'default', seeds: 1, maxRows: 150, datasets: ['pima', 'study-blobs'], noise: { sigmas: [0.1, 0.3, 0.5], draws: 5 } });
    expect(doc.protocol.network).toMatchObject({ hidden: [16, 16], epochs: 3 });
    for (const u of doc.units) {
      expect(['pima', 'study-blobs']).toContain(u.dataset);
      expect(u).toMatchObject({ repeat: 0, fold: 0 });
      expect(u.noisyAccuracy).toHaveLength(3);
      expect(u.accuracy).toBeGreaterThan(0.3);
      expect(u.tau).toBeGreaterThanOrEqual(1);
      expect(u.nTrain + u.nTest).toBe(u.dataset === 'pima' ? 150 : 120);
    }
    // the blobs are easy: clean accuracy beats noisy accuracy at σ = 0.5 on average
    const blob = doc.units.filter((u: StudyRecord) => u.dataset === 'study-blobs');
    expect(blob.reduce((s: number, u: StudyRecord) => s + u.accuracy - u.noisyAccuracy[2], 0)).toBeGreaterThan(0);
    expect(doc.analyses.map((a: { scope: string; metric: string }) => `${a.scope}/${a.metric}`)).toEqual(['cr/clean', 'gelu/clean', 'pooled/clean', 'cr/noise', 'gelu/noise', 'pooled/noise']);
    expect(doc.claims).toHaveLength(3);
    expect(doc.claims[0].ours).toContain('cr: needs dreg, none, wd and igp');
    for (const f of ['cd-clean.svg', 'cd-noise.svg', 'cd-clean-cr.svg', 'cd-clean-gelu.svg']) {
      const svg = readFileSync(path.join(dir, f), 'utf8');
      expect(svg.startsWith('<svg'), f).toBe(true);
      expect(svg).toContain('CD = ');
    }
    const summary = readFileSync(path.join(dir, 'summary.md'), 'utf8');
    expect(summary).toContain('# dreg-study: results');
    expect(summary).toContain("## The paper's claims");
    expect(summary).toContain('How to read a CD diagram');
    expect(summary).toContain('![cd-clean.svg](cd-clean.svg)');
    expect(out.report.terminal).toContain('Grid: 2 activations × 3 regularisers × 2 data sets × 1 cell(s) = 12 runs');
    expect(out.report.terminal).toContain('REDUCED grid (default protocol): ≤ 150 rows per data set, 1 of 5 folds, MLP 16-16, 3 epochs');
    expect(out.report.terminal).toContain('(1) paper: DREG (λ = 10^-2.5) best clean accuracy');
    for (const line of out.report.terminal.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);

    // resume: drop two units, rerun them, same numbers
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ ...doc, status: 'running', units: doc.units.slice(0, 10) }));
    const resumed = await runExperiment(dregStudyExperiment, { ...opts, resume: dir });
    expect(resumed.computedUnits).toBe(2);
    const doc2 = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    const key = (u: StudyRecord) => `${u.model}/${u.dataset}`;
    const byKey = (units: StudyRecord[]) => Object.fromEntries(units.map((u) => [key(u), [u.accuracy, u.noisyAccuracy, u.tau]]));
    expect(byKey(doc2.units)).toEqual(byKey(doc.units));
    await expect(runExperiment(dregStudyExperiment, { ...opts, epochs: 4, resume: dir })).rejects.toThrow(/different settings/);
  }, 180_000);
});

describe('dreg-study options', () => {
  const base = () => ({ progress: 'none' as const, backend: 'cpu', workers: 1, out: path.join(tmp(), 'o') });
  it('bad options fail with the flag named', async () => {
    const run = (o: object) => runExperiment(dregStudyExperiment, { ...base(), ...o } as never);
    await expect(run({ activations: ['sigmoid'] })).rejects.toThrow('option --activations: unknown value(s) sigmoid; choose from cr, relu, gelu, tanh');
    await expect(run({ regularizers: ['l1'] })).rejects.toThrow('option --regularizers: unknown value(s) l1; choose from none, wd, igp, sn, jrp, dreg');
    await expect(run({ datasets: ['cifar10'] })).rejects.toThrow(/option --datasets: 'cifar10' is not a tabular data set; choose a tabular data set: .*pima/);
    await expect(run({ datasets: ['no-such-set'] })).rejects.toThrow(/option --datasets: unknown data set 'no-such-set'/);
    await expect(run({ seeds: 0 })).rejects.toThrow(/option --seeds: must be an integer from 1 to 100, got 0/);
    await expect(run({ maxRows: 5 })).rejects.toThrow(/option --max-rows: must be an integer ≥ 20, got 5/);
    await expect(run({ protocol: 'huge' })).rejects.toThrow(/option --protocol: must be one of default, full/);
    await expect(run({ epochs: 0 })).rejects.toThrow(/option --epochs/);
  });

  it('a named data set whose data are missing is an error naming it', async () => {
    const dir = tmp();
    const missing = defineAdapter({
      name: 'study-missing',
      describe: () => ({ name: 'study-missing', title: 'missing', task: 'classification' as const, source: 'nowhere', builtIn: false, modality: 'tabular' }),
      load: async () => {
        const { DataError } = await import('@chainz/core');
        throw new DataError('study-missing CSV not found', { file: path.join(dir, 'nope.csv') });
      },
    });
    registerAdapter(missing);
    await expect(runExperiment(dregStudyExperiment, { ...base(), datasets: ['study-missing'] } as never)).rejects.toThrow(/study-missing CSV not found/);
    expect(existsSync(path.join(dir, 'o'))).toBe(false);
  });
});
