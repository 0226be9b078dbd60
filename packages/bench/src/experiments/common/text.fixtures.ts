// Test fixtures for the text benchmarks: tiny synthetic SST-5 trees / Yelp
// CSVs and precomputed embeddings (keyed by text) that carry the label, so
// the heads can learn something. Not part of the package API.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '@chainz/core';

const D = 8;

/** A label-dependent vector: a point on a curve indexed by the class, plus noise. */
function vectorFor(label: number, rng: Rng): number[] {
  const v = [Math.cos(label * 0.7), Math.sin(label * 0.7), label / 4 - 0.5];
  while (v.length < D) v.push(0);
  return v.map((x) => x + rng.normal() * 0.25);
}

/** Synthetic SST-5 tree files (train/dev/test) and a `.jsonl` of embeddings keyed by text. */
export function writeTinySst5(dir: string, sizes = { train: 60, dev: 20, test: 30 }, seed = 1): { trees: string; embeddings: string; texts: string[] } {
  const rng = new Rng(seed);
  const trees = path.join(dir, 'sst5');
  mkdirSync(trees, { recursive: true });
  const records: string[] = [];
  const texts: string[] = [];
  for (const [split, n] of Object.entries(sizes)) {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const c = i % 5;
      const a = `${split}${i}`, b = `mood${c}`;
      lines.push(`(${c} (2 ${a}) (${c} ${b}))`);
      const text = `${a} ${b}`;
      texts.push(text);
      records.push(JSON.stringify({ text, embedding: vectorFor(c, rng) }));
    }
    writeFileSync(path.join(trees, `${split}.txt`), lines.join('\n') + '\n');
  }
  const embeddings = path.join(dir, 'sst5-embeddings.jsonl');
  writeFileSync(embeddings, records.join('\n') + '\n');
  return { trees, embeddings, texts };
}

/** A sample-layout Yelp CSV (label,text,id) or official train/test files, and keyed embeddings. */
export function writeTinyYelp(dir: string, layout: 'sample' | 'official', n = 50, seed = 2): { path: string; embeddings: string } {
  const rng = new Rng(seed);
  const records: string[] = [];
  const row = (i: number, split: string) => {
    const c = i % 5;
    const text = `review ${split} ${i}: ${'great '.repeat(c)}food`;
    records.push(JSON.stringify({ text, embedding: vectorFor(c, rng) }));
    return { c, text };
  };
  let out: string;
  if (layout === 'sample') {
    out = path.join(dir, 'yelp-sample.csv');
    const lines = ['label,text,id'];
    for (let i = 0; i < n; i++) {
      const { c, text } = row(i, 'all');
      lines.push(`${c},"${text}",${i}`);
    }
    writeFileSync(out, lines.join('\n') + '\n');
  } else {
    out = path.join(dir, 'yelp-official');
    mkdirSync(out, { recursive: true });
    for (const [split, m] of [['train', n], ['test', Math.round(n / 2)]] as const) {
      const lines: string[] = [];
      for (let i = 0; i < m; i++) {
        const { c, text } = row(i, split);
        lines.push(`"${c + 1}","${text}"`);
      }
      writeFileSync(path.join(out, `${split}.csv`), lines.join('\n') + '\n');
    }
  }
  const embeddings = path.join(dir, `yelp-${layout}-embeddings.jsonl`);
  writeFileSync(embeddings, records.join('\n') + '\n');
  return { path: out, embeddings };
}

/**
 * A tiny GloVe text file (`word v1 … v6` per line) for the fixtures above:
 * `mood0` … `mood4` carry the SST-5 class, `great` / `food` / `review` build
 * the Yelp texts. Every other token of the fixtures is out of vocabulary
 * (SST-5: exactly half of the tokens).
 */
export function writeTinyGloveVectors(dir: string): string {
  const lines: string[] = [];
  for (let c = 0; c < 5; c++) lines.push(`mood${c} ${[Math.cos(c * 0.7), Math.sin(c * 0.7), c / 4 - 0.5, 0, 0, 0].map((x) => x.toFixed(6)).join(' ')}`);
  lines.push('great 1 0 0 0.5 0 0', 'food 0 1 0 0 0.5 0', 'review 0 0 1 0 0 0.5');
  const file = path.join(dir, 'tiny.txt');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
