import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cifar10cExperiment, type Cifar10cOptions } from '.';
import { buildCifar10cModels, cifarParameterCount } from './models';
import { CIFAR10C_PAPER } from './config';
import { runExperiment, type RunOptions } from '../../runner/run';

type Cifar10cBenchOptions = Cifar10cOptions & RunOptions;
/** The experiment run from code, with the terminal table as `table` and the data description. */
const runCifar10cBench = async (o: Cifar10cBenchOptions) => {
  const r = await runExperiment(cifar10cExperiment, o);
  const doc = JSON.parse(readFileSync(path.join(r.dir, 'results.json'), 'utf8')) as { data: { description: string } };
  return { ...r, table: r.report.terminal, dataDescription: doc.data.description };
};

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.CHAINZ_DATA_DIR ? path.resolve(process.env.CHAINZ_DATA_DIR) : path.resolve(here, '../../../../../../shared/data');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'chainz-cifar10c-'));

// The end-to-end runs train real (if tiny) models: on the pure-JS cpu backend the
// 412k-parameter MLPs take ~5× longer than on wasm, which the CLI uses by default.
beforeAll(async () => {
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
});

/** A tiny run: 100 training and 20 test images, 2 corruptions × 2 severities, 1 epoch. */
function tiny(extra: Partial<Cifar10cBenchOptions>): Cifar10cBenchOptions {
  return {
    dataDir,
    trainSize: 100,
    testSize: 20,
    corruptions: ['contrast', 'gaussian_noise'],
    severities: [1, 3],
    seeds: 2,
    epochs: 1,
    models: ['cr-mlp', 'relu-mlp', 'cr-cnn', 'relu-cnn'],
    progress: 'none',
    backend: tf.getBackend(),
    workers: 1,
    ...extra,
  };
}

describe('chainz bench cifar10c (tiny end to end)', () => {
  it('writes results.json, summary.md and heatmap.svg, uses the cache, and resumes', async () => {
    const cacheDir = tmp();
    const dir = path.join(tmp(), 'run');
    const before = tf.memory().numTensors;
    const out = await runCifar10cBench(tiny({ out: dir, cacheDir }));
    expect(tf.memory().numTensors).toBe(before);
    expect(out.computedUnits).toBe(8);
    const doc = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc.status).toBe('complete');
    expect(doc.experiment).toBe('cifar10c');
    expect(doc.protocol).toMatchObject({ trainSize: 100, testSize: 20, seeds: [0, 1], source: 'regenerated', corruptions: ['contrast', 'gaussian_noise'], severities: [1, 3] });
    expect(doc.data.generation).toMatchObject({ generated: 4, fromCache: 0 });
    expect(doc.units).toHaveLength(8);
    for (const u of doc.units) {
      expect(Object.keys(u.corruptions).sort()).toEqual(['contrast', 'gaussian_noise']);
      expect(u.corruptions.contrast).toHaveLength(2);
      expect(u.accuracy).toBeGreaterThanOrEqual(0);
      expect(u.nTest).toBe(20);
    }
    const byName = Object.fromEntries(doc.models.map((m: { name: string }) => [m.name, m]));
    expect(byName['relu-mlp'].mCE.mean).toBeCloseTo(1, 12); // the baseline scores exactly 1
    expect(byName['cr-mlp'].baseline).toBe('relu-mlp');
    expect(byName['cr-cnn'].baseline).toBe('relu-cnn');
    expect(byName['cr-mlp'].parameters).toBe(306058);
    // mCA is the mean of the grid
    const grid = byName['cr-cnn'].grid as Record<string, number[]>;
    const flat = Object.values(grid).flat();
    expect(byName['cr-cnn'].mCA.mean).toBeCloseTo(flat.reduce((a, b) => a + b, 0) / flat.length, 12);
    expect(doc.comparisons.map((c: { a: string; b: string }) => `${c.a}-${c.b}`)).toEqual(['cr-mlp-relu-mlp', 'cr-cnn-relu-cnn']);
    expect(doc.paper.mcaGainPoints).toBe(CIFAR10C_PAPER.mcaGainPoints);
    const md = readFileSync(path.join(dir, 'summary.md'), 'utf8');
    expect(md).toContain('regenerated subset, 20 test images');
    expect(md).toContain('paper: +2.32% mCA, protocol/baseline not stated');
    expect(md).toMatch(/\| gaussian_noise +\|/);
    expect(out.table).toMatch(/\| cr-mlp − relu-mlp +\|/);
    const svg = readFileSync(path.join(dir, 'heatmap.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('gaussian_noise');

    // Simulate a crash after 3 units: drop the rest and resume; the sets now come from the cache.
    const partial = { ...doc, status: 'running', units: doc.units.slice(0, 3) };
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify(partial));
    const resumed = await runCifar10cBench(tiny({ resume: dir, cacheDir }));
    expect(resumed.computedUnits).toBe(5);
    const doc2 = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(doc2.data.generation).toMatchObject({ generated: 0, fromCache: 4 });
    const acc = (d: { units: { model: string; seed: number; accuracy: number; corruptions: unknown }[] }) =>
      Object.fromEntries(d.units.map((u) => [`${u.model}/${u.seed}`, [u.accuracy, u.corruptions]]));
    expect(acc(doc2)).toEqual(acc(doc)); // deterministic: same numbers after resuming

    // Resuming with other settings is refused; so is a fresh run into a used directory.
    await expect(runCifar10cBench(tiny({ resume: dir, cacheDir, epochs: 2 }))).rejects.toThrow(/different settings/);
    await expect(runCifar10cBench(tiny({ out: dir, cacheDir }))).rejects.toThrow(/already holds results/);
  }, 120_000);

  it('reads an official-layout CIFAR-10-C folder (the 100-image golden set) and says so', async () => {
    const dir = path.join(tmp(), 'run');
    const out = await runCifar10cBench(
      tiny({ out: dir, cifar10cDir: path.join(dataDir, 'cifar10c', 'golden-first100'), corruptions: ['fog'], severities: [2], seeds: 1, models: ['relu-cnn'] }),
    );
    expect(out.dataDescription).toMatch(/^official CIFAR-10-C/);
    const md = readFileSync(path.join(dir, 'summary.md'), 'utf8');
    expect(md).toContain('official CIFAR-10-C');
    expect(JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')).protocol.source).toBe('official');
  }, 60_000);

  it('bad paths and options give clear errors and write nothing', async () => {
    const root = tmp();
    const out = path.join(root, 'out');
    const noCifar = await runCifar10cBench(tiny({ out, cifarDir: path.join(root, 'nope') })).catch((e) => e);
    expect(noCifar.message).toMatch(/nope: CIFAR-10 data not found/);
    expect(noCifar.hint).toMatch(/or pass --cifar-dir pointing at the batch files/);
    const noC = await runCifar10cBench(tiny({ out, cifar10cDir: path.join(root, 'nope') })).catch((e) => e);
    expect(noC.message).toMatch(/nope[/\\]contrast\.npy: file not found/);
    expect(noC.hint).toMatch(/pass --cifar10c-dir pointing at it\.$/);
    expect(noC.hint).not.toMatch(/`path`/);
    // the golden set was made from test images 0..99: pairing it with other "test" images is refused
    await expect(
      runCifar10cBench(tiny({ out, cifarDir: path.join(dataDir, 'cifar10', 'train_first4000.bin'), cifar10cDir: path.join(dataDir, 'cifar10c', 'golden-first100'), corruptions: ['fog'] })),
    ).rejects.toThrow(/not made from the test images/);
    await expect(runCifar10cBench(tiny({ out, models: ['vgg'] }))).rejects.toThrow(/option --models: unknown model\(s\) vgg/);
    await expect(runCifar10cBench(tiny({ out, corruptions: ['rain'] }))).rejects.toThrow(/option --corruptions/);
    await expect(runCifar10cBench(tiny({ out, severities: [6 as never] }))).rejects.toThrow(/option --severities/);
    await expect(runCifar10cBench(tiny({ out, seeds: 0 }))).rejects.toThrow(/option --seeds/);
    await expect(runCifar10cBench(tiny({ out, testSize: 5000 }))).rejects.toThrow(/--test-size.*holds only 1000/);
    await expect(runCifar10cBench(tiny({ resume: path.join(root, 'empty') }))).rejects.toThrow(/nothing to resume/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});

describe('cifar10c models', () => {
  it('are parameter-matched (MLPs within 0.01%, CNNs within 1.1%)', () => {
    const n = Object.fromEntries(['cr-mlp', 'gelu-mlp', 'relu-mlp', 'cr-cnn', 'relu-cnn'].map((m) => [m, cifarParameterCount(m)]));
    expect(n).toEqual({ 'cr-mlp': 306058, 'gelu-mlp': 306039, 'relu-mlp': 306039, 'cr-cnn': 10746, 'relu-cnn': 10859 });
    expect(Math.abs(n['gelu-mlp'] / n['cr-mlp'] - 1)).toBeLessThan(1e-4);
    expect(Math.abs(n['relu-cnn'] / n['cr-cnn'] - 1)).toBeLessThan(0.011);
  });

  it('--lambda changes only the ChainzRule models\' DREG λ (recorded in their config) and is validated', () => {
    const byName = (ms: ReturnType<typeof buildCifar10cModels>) => Object.fromEntries(ms.map((m) => [m.name, m]));
    const d = byName(buildCifar10cModels());
    const a = byName(buildCifar10cModels({ lambda: 0.05 }));
    expect((d['cr-cnn'].config.dreg as { lambda: number }).lambda).toBeCloseTo(10 ** -2.5, 12);
    expect(a['cr-cnn'].config.dreg).toEqual({ variant: 'frobenius', lambda: 0.05 });
    expect(a['cr-mlp'].description).toContain('λ=0.05');
    expect(a['relu-mlp'].config.dreg).toBeNull();
    expect(() => buildCifar10cModels({ lambda: -1 })).toThrow(/option --lambda/);
  });
});
