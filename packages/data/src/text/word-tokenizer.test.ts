import { describe, expect, it } from 'vitest';
import { resolveTokens, wordTokens } from './word-tokenizer';

describe('wordTokens', () => {
  it('lower-cases and splits punctuation off words', () => {
    expect(wordTokens('The Movie was GREAT, really!')).toEqual(['the', 'movie', 'was', 'great', ',', 'really', '!']);
    expect(wordTokens('')).toEqual([]);
    expect(wordTokens('   \t\n')).toEqual([]);
  });

  it('gives the same tokens for raw prose and the PTB form of SST-5', () => {
    const pairs: [string, string][] = [
      ["I don't like it.", "I do n't like it ."],
      ["It can't be, won't be.", "It ca n't be , wo n't be ."],
      ["He's sure they're here and we've seen it; you'll see, I'm told, she'd go.", "He 's sure they 're here and we 've seen it ; you 'll see , I 'm told , she 'd go ."],
      ['She said "wow" -- twice...', "She said `` wow '' -- twice ..."],
      ['It is (mostly) fine.', 'It is -LRB- mostly -RRB- fine .'],
    ];
    for (const [raw, ptb] of pairs) expect(wordTokens(raw)).toEqual(wordTokens(ptb));
  });

  it('writes out unambiguous clitics and keeps the ambiguous ones', () => {
    expect(wordTokens("do n't ca n't wo n't")).toEqual(['do', 'not', 'ca', 'not', 'wo', 'not']);
    expect(wordTokens("they 're we 've you 'll i 'm")).toEqual(['they', 'are', 'we', 'have', 'you', 'will', 'i', 'am']);
    expect(wordTokens("it 's she 'd")).toEqual(['it', "'s", 'she', "'d"]);
    expect(wordTokens('Don’t')).toEqual(['do', 'not']); // typographic apostrophe
  });

  it('normalises quotes, dashes, ellipses and PTB brackets', () => {
    expect(wordTokens("`` a '' “b” „c")).toEqual(['"', 'a', '"', '"', 'b', '"', '"', 'c']);
    expect(wordTokens('x -- y — z – w')).toEqual(['x', '-', 'y', '-', 'z', '-', 'w']);
    expect(wordTokens('wait... what…')).toEqual(['wait', '…', 'what', '…']);
    expect(wordTokens('-LSB- a -RSB- -LCB- b -RCB-')).toEqual(['[', 'a', ']', '{', 'b', '}']);
    expect(wordTokens('ﬁne')).toEqual(['fine']); // NFKC ligature
  });

  it('keeps compounds, abbreviations and numbers as one token', () => {
    expect(wordTokens('A well-known and/or U.S. film, 3.5 stars')).toEqual(['a', 'well-known', 'and/or', 'u.s', '.', 'film', ',', '3.5', 'stars']);
    expect(wordTokens("o'neil '70s")).toEqual(['o', "'", 'neil', "'", '70s']);
  });
});

describe('resolveTokens', () => {
  const index = new Map(['well-known', 'jean', 'claude', 'cafe', 'and', 'or', 'end', 'the', 'naive'].map((w, i) => [w, i]));

  it('looks tokens up, backing off to parts and to words without diacritics', () => {
    const r = resolveTokens(['well-known', 'jean-claude', 'café', 'and/or', 'end.the', 'naïve-x', 'zzz', 'u.s', '-'], index);
    expect(r).toEqual([
      { token: 'well-known', rows: [0] },
      { token: 'jean-claude', rows: [1, 2] },
      { token: 'café', rows: [3] },
      { token: 'and/or', rows: [4, 5] },
      { token: 'end.the', rows: [6, 7] },
      { token: 'naïve-x', rows: [8] },
      { token: 'zzz', rows: [] },
      { token: 'u.s', rows: [] },
      { token: '-', rows: [] },
    ]);
  });
});
