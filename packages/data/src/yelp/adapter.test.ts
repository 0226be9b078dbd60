import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, DataError } from '@chainz/core';
import { describe, expect, it } from 'vitest';
import { testDataDir } from '../text/test-data';
import { loadYelp, readYelpCsv, unescapeYelpText, yelpAdapter } from './adapter';

const dataDir = testDataDir();

function tmp(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'yelp-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

// Two rows in the official header-less layout, as the release writes them:
// every field quoted, "" for a quote, newlines escaped as \n.
const OFFICIAL = '"5","Great \\""tacos\\"".\\nWould go again."\n"1","Cold, slow, rude."\n"3","Fine."\n';

describe('yelp adapter', () => {
  it('reads the shared label,text,id sample: 1000 reviews, 200 per class, flagged as reduced-scale', async () => {
    const ds = await yelpAdapter.load({ dataDir });
    expect(ds.name).toBe('yelp');
    expect(ds.task).toBe('ordinal');
    expect(ds.classNames).toEqual(['1 star', '2 stars', '3 stars', '4 stars', '5 stars']);
    expect(Object.keys(ds.splits)).toEqual(['all']);
    const { texts, labels } = ds.splits.all;
    expect(texts).toHaveLength(1000);
    const h = [0, 0, 0, 0, 0];
    for (const l of labels) h[l]++;
    expect(h).toEqual([200, 200, 200, 200, 200]);
    expect(labels[0]).toBe(0);
    expect(texts![0]).toMatch(/^Manager is a complete jerk\. /);
    expect(texts![0]).toContain('His reasoning was "it might get busy".');
    // Escapes undone: real newlines, no literal backslash-n left.
    expect(texts!.some((t) => t.includes('\n'))).toBe(true);
    expect(texts!.some((t) => t.includes('\\n'))).toBe(false);
    expect(ds.provenance.notes).toContain('all: label,text,id sample layout (label = stars − 1), reduced-scale sample (1000 reviews)');
    expect(ds.provenance.sha256).toEqual(['4f135184b3d497ed239baea6b30b7b60b6753bf067ef8ce24d9296f67b26a2bc']);
  });

  it('keeps the raw escapes with unescape: false', async () => {
    const ds = await loadYelp({ dataDir, unescape: false, maxRows: 3 });
    expect(ds.splits.all.texts![1]).toContain('\\n\\nIt\'s definitely \\"cool\\"');
    expect(ds.provenance.notes).toContain('all: first 3 reviews only (maxRows), reduced-scale');
  });

  it('reads the official header-less "stars","text" layout (stars 1..5 → labels 0..4)', async () => {
    const dir = tmp({ 'train.csv': OFFICIAL, 'test.csv': '"2","Meh."\n' });
    const ds = await loadYelp({ path: dir });
    expect(Object.keys(ds.splits)).toEqual(['train', 'test']);
    expect(Array.from(ds.splits.train.labels)).toEqual([4, 0, 2]);
    expect(ds.splits.train.texts).toEqual(['Great "tacos".\nWould go again.', 'Cold, slow, rude.', 'Fine.']);
    expect(ds.splits.test.texts).toEqual(['Meh.']);
    expect(ds.provenance.notes![0]).toBe('train: official header-less "stars","text" layout (stars 1..5), 3 reviews');
    expect(ds.provenance.files).toEqual([path.join(dir, 'train.csv'), path.join(dir, 'test.csv')]);
  });

  it('detects the layout per file and honours maxRows', async () => {
    const dir = tmp({ 'official.csv': OFFICIAL, 'hf.csv': 'text,label\n"Nice.",3\n' });
    const off = await readYelpCsv(path.join(dir, 'official.csv'), { maxRows: 2 });
    expect(off).toMatchObject({ layout: 'official', truncated: true });
    expect(off.texts).toHaveLength(2);
    const hf = await readYelpCsv(path.join(dir, 'hf.csv'));
    expect(hf.layout).toBe('sample');
    expect(hf.texts).toEqual(['Nice.']);
    expect(Array.from(hf.labels)).toEqual([3]);
    const one = await loadYelp({ path: path.join(dir, 'official.csv') });
    expect(Object.keys(one.splits)).toEqual(['all']);
  });

  it('rejects bad values with the file, row and column', async () => {
    const dir = tmp({
      'stars.csv': '"5","ok"\n"6","too many stars"\n',
      'label.csv': 'label,text,id\n0,"a",1\n5,"b",2\n',
      'cols.csv': 'label,text,id\n0,"a"\n',
      'what.csv': 'a,b,c\n1,2,3\n',
      'quote.csv': '"5","unterminated\n',
    });
    const err = async (f: string) => readYelpCsv(path.join(dir, f)).catch((e) => e);
    const stars = await err('stars.csv');
    expect(stars).toBeInstanceOf(DataError);
    expect(stars.location).toMatchObject({ file: path.join(dir, 'stars.csv'), row: 2, column: 1 });
    expect(stars.message).toMatch(/stars must be an integer 1\.\.5, got "6"/);
    const label = await err('label.csv');
    expect(label.location).toMatchObject({ row: 3, column: 'label' });
    expect((await err('cols.csv')).message).toMatch(/row 2: expected 3 columns, found 2/);
    expect((await err('what.csv')).message).toMatch(/unrecognised Yelp CSV layout/);
    const quote = await err('quote.csv');
    expect(quote).toBeInstanceOf(DataError);
    expect(quote.message).toMatch(/malformed CSV/);
    await expect(loadYelp({ dataDir, maxRows: 0 })).rejects.toThrow(ConfigError);
    await expect(loadYelp({ dataDir: tmp({}) })).rejects.toThrow(/Yelp Review Full not found/);
  });

  it('a file with only a header is refused at load, naming the file', async () => {
    for (const header of ['label,text,id\n', 'label,text\r\n\r\n', '\ufefflabel,text,id']) {
      const dir = tmp({ 'only-header.csv': header });
      const file = path.join(dir, 'only-header.csv');
      for (const load of [() => readYelpCsv(file), () => loadYelp({ path: file })]) {
        const e = await load().catch((x: unknown) => x);
        expect(e).toBeInstanceOf(DataError);
        expect((e as DataError).message).toBe(`${file}: no reviews: the file holds only a header row`);
      }
    }
  });

  it('unescapeYelpText undoes only \\n and \\"', () => {
    expect(unescapeYelpText('a\\nb \\"c\\" d\\e')).toBe('a\nb "c" d\\e');
  });
});
