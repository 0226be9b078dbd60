// Regression guard for the experiment runner: small configurations of every
// experiment, recorded as fixtures (per-unit numbers, timings removed) before
// the experiments moved onto one runner. The same seeds and options must give
// the same per-unit numbers: accuracies, epochs, steps, counts exactly; the
// continuous diagnostics (τ, losses, penalties) to float32 round-off (relative
// 1e-5), since the float32 SIMD kernels replaced float64 arithmetic inside the
// polynomial op (same accuracies and epochs on every fixture). Re-record (only
// when a change of numbers is intended and explained in the commit) with
// CHAINZ_RECORD_FIXTURES=1.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { describeBackends } from '@chainz/core/test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pimaExperiment } from '../experiments/pima';
import { runExperiment } from './run';
import { sst5Experiment } from '../experiments/sst5';
import { yelpExperiment } from '../experiments/yelp';
import { efficiencyExperiment } from '../experiments/efficiency';
import { cifar10cExperiment } from '../experiments/cifar10c';
import { writeTinySst5, writeTinyYelp } from '../experiments/common/text.fixtures';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '__fixtures__', 'regression');
const dataDir = process.env.CHAINZ_DATA_DIR ? path.resolve(process.env.CHAINZ_DATA_DIR) : path.resolve(here, '../../../../../shared/data');
const record = process.env.CHAINZ_RECORD_FIXTURES === '1';
const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-regression-'));

/** Timing and host-dependent fields are not numbers of the method: drop them. */
const TIMING = new Set(['trainSeconds', 'evalSeconds', 'seconds', 'embeddingSeconds']);
function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([k]) => !TIMING.has(k))
        .map(([k, x]) => [k, strip(x)]),
    );
  }
  return v;
}

/** Per-unit numbers of a results folder, in a stable order. */
function unitsOf(dir: string): unknown[] {
  const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { units: Record<string, unknown>[] };
  const key = (u: Record<string, unknown>) => JSON.stringify([u.model, u.repeat, u.fold]);
  return (strip(doc.units) as Record<string, unknown>[]).sort((a, b) => key(a).localeCompare(key(b)));
}

function check(name: string, units: unknown[]): void {
  const file = path.join(fixtures, `${name}.json`);
  if (record) {
    mkdirSync(fixtures, { recursive: true });
    writeFileSync(file, JSON.stringify(units, null, 1) + '\n');
    return;
  }
  expect(existsSync(file), `fixture ${file}`).toBe(true);
  const mismatches: string[] = [];
  compare(units, JSON.parse(readFileSync(file, 'utf8')), '', mismatches);
  expect(mismatches, mismatches.slice(0, 10).join('\n')).toEqual([]);
}

/** Fields compared to float32 round-off; every other value must be equal. */
const ROUND_OFF = new Set(['tau', 'bestValidationLoss', 'finalTaskLoss', 'finalPenalty']);
const REL_TOL = 1e-5;

function compare(got: unknown, want: unknown, where: string, out: string[]): void {
  if (typeof got === 'number' && typeof want === 'number') {
    const key = where.slice(where.lastIndexOf('.') + 1);
    const ok = got === want || (ROUND_OFF.has(key) && Math.abs(got - want) <= REL_TOL * Math.max(Math.abs(want), 1e-12));
    if (!ok) out.push(`${where}: ${got} ≠ ${want}`);
    return;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) return void out.push(`${where}: ${JSON.stringify(got)?.slice(0, 80)} ≠ ${JSON.stringify(want).slice(0, 80)}`);
    want.forEach((w, i) => compare(got[i], w, `${where}[${i}]`, out));
    return;
  }
  if (want && typeof want === 'object') {
    if (!got || typeof got !== 'object') return void out.push(`${where}: not an object`);
    const keys = new Set([...Object.keys(want), ...Object.keys(got)]);
    for (const k of keys) compare((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], `${where}.${k}`, out);
    return;
  }
  if (got !== want) out.push(`${where}: ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`);
}

const FAST = { hidden: [32, 32], learningRate: 1e-2, epochs: 30, batchSize: 32 };

describeBackends(['wasm'], () => {
  describe('the same seeds and options give the same per-unit numbers as the recorded fixtures', () => {
    it('pima (2-fold, six models)', async () => {
      const dir = path.join(tmp(), 'run');
      await runExperiment(pimaExperiment, { folds: 2, seed: 3, models: ['cr', 'relu-mlp', 'logreg', 'svm-rbf', 'xgboost', 'majority'], out: dir, progress: 'none', backend: tf.getBackend(), workers: 1 });
      check('pima', unitsOf(dir));
    }, 120_000);

    it('sst5 (tiny trees, precomputed embeddings, 2 seeds)', async () => {
      const root = tmp();
      const { trees, embeddings } = writeTinySst5(root);
      const dir = path.join(root, 'run');
      await runExperiment(sst5Experiment, { data: trees, encoder: `precomputed:${embeddings}`, cacheDir: path.join(root, 'cache'), seeds: 2, models: ['cr', 'relu-mlp', 'logreg'], modelOverrides: FAST, out: dir, progress: 'none', backend: tf.getBackend(), workers: 1 });
      check('sst5', unitsOf(dir));
    }, 60_000);

    it('yelp (tiny sample, 2-fold, ordinal and softmax heads)', async () => {
      const root = tmp();
      const y = writeTinyYelp(root, 'sample', 50);
      const dir = path.join(root, 'run');
      await runExperiment(yelpExperiment, { yelpDir: y.path, encoder: `precomputed:${y.embeddings}`, cacheDir: path.join(root, 'cache'), folds: 2, models: ['cr', 'logreg-softmax'], modelOverrides: { ...FAST, batchSize: 16 }, out: dir, progress: 'none', backend: tf.getBackend(), workers: 1 });
      check('yelp', unitsOf(dir));
    }, 60_000);

    it('efficiency --dataset pima (two fractions, one seed)', async () => {
      const dir = path.join(tmp(), 'run');
      await runExperiment(efficiencyExperiment, { dataset: 'pima', fractions: [0.05, 0.1], seeds: 1, models: ['cr', 'logreg'], out: dir, progress: 'none', backend: tf.getBackend(), workers: 1 });
      check('efficiency-pima', unitsOf(dir));
    }, 120_000);

    it.skipIf(!existsSync(path.join(dataDir, 'cifar10', 'train_first4000.bin')))('cifar10c (100 images, one corruption, 1 epoch)', async () => {
      const dir = path.join(tmp(), 'run');
      await runExperiment(cifar10cExperiment, {
        dataDir,
        trainSize: 100,
        testSize: 20,
        corruptions: ['contrast'],
        severities: [2],
        seeds: 1,
        epochs: 1,
        models: ['cr-mlp', 'relu-cnn'],
        cacheDir: null,
        out: dir,
        progress: 'none',
        backend: tf.getBackend(),
        workers: 1,
      });
      check('cifar10c', unitsOf(dir));
    }, 120_000);
  });
});
