import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, DataError } from '@chainz/core';
import { describe, expect, it, vi } from 'vitest';
import { testDataDir } from '../text/test-data';
import { loadSst5, parseSst5Trees, sst5Adapter, stratifiedSample } from './adapter';
import { parsePtbTree, ptbSpanText, unescapePtbToken } from './ptb';

const dataDir = testDataDir();

function histogram(labels: Int32Array, k = 5): number[] {
  const h = new Array(k).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

describe('parsePtbTree', () => {
  it('parses leaves, spans and labels in pre-order', () => {
    const t = parsePtbTree('(3 (2 It) (4 (2 is) (3 (3 good) (2 .))))');
    expect(t.tokens).toEqual(['It', 'is', 'good', '.']);
    expect(t.nodes.map((n) => [n.label, n.start, n.end])).toEqual([
      [3, 0, 4],
      [2, 0, 1],
      [4, 1, 4],
      [2, 1, 2],
      [3, 2, 4],
      [3, 2, 3],
      [2, 3, 4],
    ]);
  });

  it('undoes PTB escapes and joins tokens with spaces', () => {
    const t = parsePtbTree('(2 (2 -LRB-) (2 (2 writer\\/director) (2 (2 -RRB-) (2 (2 -LSB-) (2 (2 \\*\\*) (2 -RCB-))))))');
    expect(ptbSpanText(t.tokens)).toBe('( writer/director ) [ ** }');
    expect(unescapePtbToken('-LCB-')).toBe('{');
    expect(unescapePtbToken('``')).toBe('``');
  });

  it.each([
    ['(3 (2 a) (2 b)', 'unbalanced parentheses'],
    ['(3 (2 a) (2 b)))', 'extra ")"'],
    ['(7 (2 a) (2 b))', 'bad label "7"'],
    ['(x (2 a))', 'bad label "x"'],
    ['(3 (2 a b))', 'expected ")"'],
    ['(3 ())', 'missing label'],
    ['(3 (2 ))', 'empty node'],
    ['word', 'expected "("'],
  ])('rejects %s', (line, msg) => {
    expect(() => parsePtbTree(line, { file: 'f.txt', row: 12 })).toThrow(DataError);
    expect(() => parsePtbTree(line, { file: 'f.txt', row: 12 })).toThrow(msg);
    try {
      parsePtbTree(line, { file: 'f.txt', row: 12 });
    } catch (e) {
      expect((e as DataError).location).toMatchObject({ file: 'f.txt', row: 12 });
      expect((e as DataError).message).toMatch(/^f\.txt, row 12, column \d+: malformed PTB tree/);
    }
  });
});

describe('parsePtbTree on deeply nested trees', () => {
  // depth 7,694 (a 30 KB line) once overflowed the call stack with a raw RangeError
  const deep = (depth: number) => '(2 '.repeat(depth) + 'w' + ')'.repeat(depth);

  it('parses any depth iteratively', () => {
    const t = parsePtbTree(deep(7694));
    expect(t.tokens).toEqual(['w']);
    expect(t.nodes).toHaveLength(7694);
    expect(t.nodes[7693]).toEqual({ label: 2, start: 0, end: 1 });
    expect(parsePtbTree(deep(200_000)).nodes).toHaveLength(200_000);
  });

  it('a malformed deep tree is a DataError naming file, line and column', () => {
    const line = deep(7694).slice(0, -1); // one ")" short
    expect(() => parsePtbTree(line, { file: 'train.txt', row: 3 })).toThrow(
      new DataError('malformed PTB tree: unbalanced parentheses: the line ends before ")"', { file: 'train.txt', row: 3, column: line.length + 1 }),
    );
  });

  it('parseSst5Trees names the file and line of a deep malformed tree', () => {
    const e = (() => {
      try {
        parseSst5Trees(`(3 (2 a) (2 b))\n${'(2 '.repeat(9000)}w${')'.repeat(8999)} x\n`, 'trees/train.txt');
      } catch (x) {
        return x as DataError;
      }
    })();
    expect(e).toBeInstanceOf(DataError);
    expect(e!.location).toMatchObject({ file: 'trees/train.txt', row: 2 });
  });
});

describe('sst5 adapter (shared data)', () => {
  it('reads the standard splits with the MANIFEST counts and root-label histograms', async () => {
    const ds = await sst5Adapter.load({ dataDir });
    expect(ds.name).toBe('sst5');
    expect(ds.task).toBe('ordinal');
    expect(ds.classNames).toEqual(['very negative', 'negative', 'neutral', 'positive', 'very positive']);
    expect(Object.keys(ds.splits)).toEqual(['train', 'dev', 'test']);
    expect(ds.splits.train.texts).toHaveLength(8544);
    expect(ds.splits.dev.texts).toHaveLength(1101);
    expect(ds.splits.test.texts).toHaveLength(2210);
    expect(histogram(ds.splits.train.labels)).toEqual([1092, 2218, 1624, 2322, 1288]);
    expect(histogram(ds.splits.dev.labels)).toEqual([139, 289, 229, 279, 165]);
    expect(histogram(ds.splits.test.labels)).toEqual([279, 633, 389, 510, 399]);
    // First dev tree: (3 (2 It) (4 (4 (2 's) ...
    expect(ds.splits.dev.texts![0]).toBe("It 's a lovely film with lovely performances by Buy and Accorsi .");
    expect(ds.splits.dev.labels[0]).toBe(3);
    const all = [...ds.splits.train.texts!, ...ds.splits.dev.texts!, ...ds.splits.test.texts!].join('\n');
    expect(all).not.toMatch(/-[LR][RSC]B-|\\\//);
    expect(ds.provenance.files).toHaveLength(3);
    expect(ds.provenance.sha256).toEqual([
      'e2f3f41b0b1e6d4dddc0effe3bfc2d27ed8928079aa9a03d652311614fc5feb7',
      '0e9336aed6e4730e19f58d00a77b3f0297efdb755f7b5e598c98a05e3f97ea40',
      '6e54806dee95cf80cd918e7dfb3f6770f6df24bf826f289a4d1f709e1c8f6761',
    ]);
    expect(ds.provenance.citation).toMatch(/Socher/);
  });

  it('phrases: true puts every distinct labelled phrase of the training trees into train', async () => {
    const ds = await loadSst5({ dataDir, phrases: true });
    const train = ds.splits.train;
    const sentences = await loadSst5({ dataDir });
    expect(ds.splits.dev.texts).toEqual(sentences.splits.dev.texts);
    // Distinct, and a superset of the training sentences.
    expect(new Set(train.texts).size).toBe(train.texts!.length);
    expect(train.texts!.length).toBeGreaterThan(100_000);
    const index = new Map(train.texts!.map((t, i) => [t, i]));
    for (const s of sentences.splits.train.texts!.slice(0, 200)) expect(index.has(s)).toBe(true);
    expect(train.labels.length).toBe(train.texts!.length);
    const h = histogram(train.labels);
    expect(h.every((c) => c > 0)).toBe(true);
    expect(h.reduce((a, b) => a + b, 0)).toBe(train.texts!.length);
    // SST labels phrases through one phrase dictionary, so repeats never disagree.
    expect(ds.provenance.notes!.join('\n')).toMatch(/distinct phrases from 8544 sentences; \d+ repeated phrases dropped \(first occurrence kept\), 0 of them with a different label/);
  });

  it('dedupes phrases keeping the first occurrence and counts label conflicts', () => {
    const content = '(3 (2 good) (3 (2 film) (2 .)))\n\n(1 (3 good) (1 (2 film) (2 .)))\n';
    const d = parseSst5Trees(content, 'x.txt', true);
    expect(d.texts).toEqual(['good film .', 'good film .']);
    expect(d.phrases!.texts).toEqual(['good film .', 'good', 'film .', 'film', '.']);
    expect(Array.from(d.phrases!.labels)).toEqual([3, 2, 3, 2, 2]);
    expect(d.phrases!.duplicates).toBe(5);
    expect(d.phrases!.conflicts).toBe(3); // root 3 vs 1, 'good' 2 vs 3, 'film .' 3 vs 1
  });

  it('names the file and line of a malformed tree', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sst5-'));
    mkdirSync(path.join(dir, 'trees'));
    writeFileSync(path.join(dir, 'trees', 'train.txt'), '(3 (2 a) (2 b))\n(2 (2 c) (9 d))\n');
    writeFileSync(path.join(dir, 'trees', 'dev.txt'), '(3 (2 a) (2 b))\n');
    writeFileSync(path.join(dir, 'trees', 'test.txt'), '(3 (2 a) (2 b))\n');
    const err = await loadSst5({ path: dir }).catch((e) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err.location.file).toBe(path.join(dir, 'trees', 'train.txt'));
    expect(err.location.row).toBe(2);
    expect(err.message).toMatch(/bad label "9"/);
  });

  it('reads a single tree file as one split and explains a missing location', async () => {
    const ds = await loadSst5({ path: path.join(dataDir, 'sst5', 'trees', 'dev.txt') });
    expect(Object.keys(ds.splits)).toEqual(['dev']);
    expect(ds.splits.dev.texts).toHaveLength(1101);
    const dir = mkdtempSync(path.join(tmpdir(), 'sst5-empty-'));
    const err = await loadSst5({ dataDir: dir }).catch((e) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(/SST-5 tree files not found/);
    expect(err.hint).toMatch(/trainDevTestTrees_PTB/);
    // library callers read the library's option names
    expect(err.hint).toMatch(/or pass the folder as `path`$/);
    vi.stubEnv('CHAINZ_DATA_DIR', '');
    try {
      const none = await loadSst5().catch((e) => e);
      expect(none.message).toBe("option path: no location for dataset 'sst5': set CHAINZ_DATA_DIR or pass `path` or `dataDir`");
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('stratifiedSample', () => {
  const labels = Int32Array.from([...Array(60).fill(0), ...Array(30).fill(2), ...Array(10).fill(1)]);

  it('keeps exactly count rows, each class its proportional share (largest remainder)', () => {
    const keep = stratifiedSample(labels, 10, 7);
    expect(keep).toHaveLength(10);
    expect(Array.from(keep)).toEqual([...keep].sort((a, b) => a - b));
    expect(histogram(Int32Array.from(keep, (i) => labels[i]), 3)).toEqual([6, 1, 3]);
    // 7 rows: exact shares 4.2, 0.7, 2.1 → floors 4, 0, 2 and the one left goes to the largest remainder (class 1).
    expect(histogram(Int32Array.from(stratifiedSample(labels, 7, 7), (i) => labels[i]), 3)).toEqual([4, 1, 2]);
    expect(Array.from(stratifiedSample(labels, 100, 7))).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('is seeded: the same seed gives the same rows, another seed other rows', () => {
    expect(Array.from(stratifiedSample(labels, 20, 1))).toEqual(Array.from(stratifiedSample(labels, 20, 1)));
    expect(Array.from(stratifiedSample(labels, 20, 1))).not.toEqual(Array.from(stratifiedSample(labels, 20, 2)));
  });
});

describe('sst5 quick runs (trainFraction, maxTrain, maxRows)', () => {
  /** Is `sub` (texts with labels) an in-order subsequence of `full`? */
  function isSubsequence(sub: { texts?: string[]; labels: Int32Array }, full: { texts?: string[]; labels: Int32Array }): boolean {
    let j = 0;
    for (let i = 0; i < sub.labels.length; i++) {
      while (j < full.labels.length && !(full.texts![j] === sub.texts![i] && full.labels[j] === sub.labels[i])) j++;
      if (j === full.labels.length) return false;
      j++;
    }
    return true;
  }

  it('subsamples train and caps dev/test, stratified, seeded, noted as reduced scale', async () => {
    const full = await loadSst5({ dataDir });
    const ds = await loadSst5({ dataDir, trainFraction: 0.1, maxRows: 200 });
    // 854 = round(0.1 · 8544); shares of [1092, 2218, 1624, 2322, 1288] by largest remainder.
    expect(histogram(ds.splits.train.labels)).toEqual([109, 222, 162, 232, 129]);
    expect(histogram(ds.splits.dev.labels)).toEqual([25, 52, 42, 51, 30]);
    expect(ds.splits.test.labels).toHaveLength(200);
    for (const s of ['train', 'dev', 'test']) {
      expect(ds.splits[s].texts).toHaveLength(ds.splits[s].labels.length);
      expect(isSubsequence(ds.splits[s], full.splits[s])).toBe(true);
    }
    const notes = ds.provenance.notes!.filter((n) => n.startsWith('reduced-scale:'));
    expect(notes).toEqual([
      'reduced-scale: train 854 of 8544 rows (trainFraction 0.1; stratified by label, sampleSeed 0, file order kept)',
      'reduced-scale: dev 200 of 1101 rows (maxRows 200; stratified by label, sampleSeed 0, file order kept)',
      'reduced-scale: test 200 of 2210 rows (maxRows 200; stratified by label, sampleSeed 0, file order kept)',
    ]);
    const again = await loadSst5({ dataDir, trainFraction: 0.1, maxRows: 200 });
    expect(again.splits.train.texts).toEqual(ds.splits.train.texts);
    const other = await loadSst5({ dataDir, trainFraction: 0.1, maxRows: 200, sampleSeed: 1 });
    expect(other.splits.train.texts).not.toEqual(ds.splits.train.texts);
    expect(histogram(other.splits.train.labels)).toEqual([109, 222, 162, 232, 129]);
  });

  it('maxTrain caps train after trainFraction; nothing is noted when no split shrinks', async () => {
    const ds = await loadSst5({ dataDir, trainFraction: 0.5, maxTrain: 300 });
    expect(ds.splits.train.labels).toHaveLength(300);
    expect(ds.splits.dev.labels).toHaveLength(1101);
    expect(ds.provenance.notes!.filter((n) => n.startsWith('reduced-scale:'))).toEqual([
      'reduced-scale: train 300 of 8544 rows (trainFraction 0.5, maxTrain 300; stratified by label, sampleSeed 0, file order kept)',
    ]);
    const whole = await loadSst5({ dataDir, trainFraction: 1, maxTrain: 10_000, maxRows: 5000 });
    expect(whole.splits.train.labels).toHaveLength(8544);
    expect(whole.provenance.notes!.some((n) => n.startsWith('reduced-scale:'))).toBe(false);
  });

  it('rejects invalid values before reading any file', async () => {
    const none = '/nonexistent-sst5';
    await expect(loadSst5({ path: none, trainFraction: 0 })).rejects.toThrow(/option trainFraction: trainFraction must be in \(0, 1\], got 0/);
    await expect(loadSst5({ path: none, trainFraction: 1.5 })).rejects.toThrow(ConfigError);
    await expect(loadSst5({ path: none, maxTrain: 2.5 })).rejects.toThrow(/option maxTrain: maxTrain must be a positive integer, got 2.5/);
    await expect(loadSst5({ path: none, maxRows: 0 })).rejects.toThrow(/option maxRows: maxRows must be a positive integer, got 0/);
    await expect(loadSst5({ path: none, sampleSeed: 0.5 })).rejects.toThrow(/option sampleSeed/);
  });
});
