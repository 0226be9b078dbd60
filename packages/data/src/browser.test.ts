import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ChainzError } from '@chainz/core';
import * as browser from './browser';
import * as full from './index';

const pkg = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../package.json'), 'utf8'));

/** Runs `fn` as if outside Node: `process.versions.node` unset (the rest of `process` stays for vitest). */
async function outsideNode<T>(fn: () => Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(process, 'versions')!;
  Object.defineProperty(process, 'versions', { ...original, value: { ...process.versions, node: undefined } });
  try {
    return await fn();
  } finally {
    Object.defineProperty(process, 'versions', original);
  }
}

describe('@chainz/data browser entry', () => {
  it('is what browser bundlers resolve; Node keeps the full entry', () => {
    const root = pkg.exports['.'];
    expect(Object.keys(root)[0]).toBe('browser');
    expect(root.browser).toEqual({ types: './dist/browser.d.ts', default: './dist/browser.js' });
    expect(root.import).toBe('./dist/index.js');
    expect(pkg.exports['./browser'].import).toBe('./dist/browser.js');
    // csv-parse's own browser build (no Node Buffer) for bundlers honouring the browser field
    expect(pkg.browser).toEqual({ 'csv-parse/sync': 'csv-parse/browser/esm/sync' });
  });

  it('exports the registry, CSV, Pima, splits, preprocessing and corruptions, but nothing that reads files by path', () => {
    for (const name of ['registerAdapter', 'getAdapter', 'loadCsvDataset', 'parseTabularCsv', 'loadPima', 'PIMA_CSV', 'stratifiedKFold', 'fitTabularPreprocessor', 'corrupt', 'CORRUPTIONS']) {
      expect(browser, name).toHaveProperty(name);
      expect((browser as Record<string, unknown>)[name], name).toBe((full as Record<string, unknown>)[name]);
    }
    for (const name of ['readDataFile', 'readCifar10Binary', 'readNpy', 'createUseLiteEncoder', 'readEmbeddingCache']) {
      expect(browser, name).not.toHaveProperty(name);
      expect(full, name).toHaveProperty(name);
    }
    expect(browser.BUILTIN_ADAPTERS.map((a) => a.name)).toEqual(['csv', 'pima']);
  });

  it('outside Node: CSV from text and the embedded Pima load; a path, jpeg_compression and frost throw E_IO', () => outsideNode(async () => {
    const ds = await browser.loadCsvDataset({ text: 'a,b,y\n1,2,x\n3,4,z\n5,6,x\n' });
    expect(ds.splits.all.labels).toEqual(new Int32Array([0, 1, 0]));
    ds.dispose();
    const pima = await browser.loadPima();
    expect(pima.splits.all.labels.length).toBe(768);
    pima.dispose();

    const byPath = await browser.loadCsvDataset({ path: 'data.csv' }).catch((e: unknown) => e);
    expect(byPath).toBeInstanceOf(ChainzError);
    expect((byPath as ChainzError).code).toBe('E_IO');
    expect((byPath as ChainzError).message).toBe('reading the CSV file data.csv needs Node.js (node:fs/promises), not available in this runtime');
    expect((byPath as ChainzError).hint).toMatch(/pass the CSV's text/);

    const img = new Uint8Array(3072).fill(128);
    expect((await browser.corrupt(img, 1, 'gaussian_noise', 3, { seed: 1 })).length).toBe(3072);
    const jpeg = await browser.corrupt(img, 1, 'jpeg_compression', 3).catch((e: unknown) => e);
    expect((jpeg as ChainzError).code).toBe('E_IO');
    expect((jpeg as ChainzError).message).toBe('jpeg_compression needs sharp (libvips, Node.js only), not available in this runtime');
    const frost = await browser.corrupt(img, 1, 'frost', 3, { frostDir: '/textures' }).catch((e: unknown) => e);
    expect((frost as ChainzError).code).toBe('E_IO');
  }));

  it('registerBuiltinAdapters registers the browser adapters', () => {
    browser.registerBuiltinAdapters();
    expect(browser.getAdapter('csv')).toBe(browser.csvAdapter);
    expect(browser.getAdapter('pima')).toBe(browser.pimaAdapter);
  });
});
