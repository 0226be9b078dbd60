import { describe, expect, it } from 'vitest';
import { multipleComparison } from '@chainz/metrics';
import { renderVegaLiteSvg } from '../plots';
import { cdDiagramFromComparison, cdDiagramSpec } from './cd-diagram';

// Demšar (2006) Table 6 AUCs (voting's C4.5+cf as 0.9751: the order of its unrounded value)
const AUC = [
  [0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.59, 0.569], [0.954, 0.971, 0.968, 0.967], [0.628, 0.661, 0.654, 0.657],
  [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931], [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625],
  [0.775, 0.838, 0.866, 0.875], [1, 1, 1, 1], [0.94, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
  [0.972, 0.981, 0.9751, 0.975], [0.957, 0.978, 0.946, 0.97],
];
const METHODS = ['C4.5', 'C4.5+m', 'C4.5+cf', 'C4.5+m+cf'];

/** Text of every <text> element of an SVG. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&amp;/g, '&'));

describe('critical-difference diagram', () => {
  it("renders Demšar's Figure 1(a) at α = 0.10: every method with its rank, the rank axis, the CD, two group bars", async () => {
    const r = multipleComparison(AUC, METHODS, { alpha: 0.1 });
    const svg = await renderVegaLiteSvg(cdDiagramFromComparison(r, { title: 'C4.5 variants' }));
    expect(svg.startsWith('<svg')).toBe(true);
    const t = texts(svg);
    for (const label of ['C4.5 (3.14)', 'C4.5+m (2.00)', 'C4.5+cf (2.89)', 'C4.5+m+cf (1.96)', 'CD = 1.12 (Nemenyi, α = 0.1)', 'C4.5 variants', '1', '2', '3', '4']) expect(t).toContain(label);
    // the thick bars are the only 4-pixel strokes: one per group (C4.5+cf belongs to both)
    expect(r.nemenyi.groups).toHaveLength(2);
    expect(svg.match(/stroke-width="4"/g)).toHaveLength(2);
  });

  it('puts the better half on the right (left-aligned labels) and the rest on the left (right-aligned)', async () => {
    const svg = await renderVegaLiteSvg(cdDiagramSpec({ methods: ['a', 'b', 'c'], averageRanks: [1.2, 2.9, 1.9], cd: 0.5 }));
    const anchor = (name: string) => new RegExp(`text-anchor="(start|end)"[^>]*>${name} \\(`).exec(svg)?.[1];
    expect(anchor('a')).toBe('start');
    expect(anchor('c')).toBe('start');
    expect(anchor('b')).toBe('end');
    expect(svg.match(/stroke-width="4"/g)).toBeNull(); // every pair differs by ≥ CD: no group
  });

  it('refuses inconsistent input, naming the option', () => {
    expect(() => cdDiagramSpec({ methods: ['a'], averageRanks: [1], cd: 1 })).toThrow(/option methods.*at least 2 methods/s);
    expect(() => cdDiagramSpec({ methods: ['a', 'b'], averageRanks: [1], cd: 1 })).toThrow(/option averageRanks.*1 average ranks for 2 methods/s);
    expect(() => cdDiagramSpec({ methods: ['a', 'b'], averageRanks: [1, 3], cd: 1 })).toThrow(/average rank of 'b' is 3, outside \[1, 2\]/);
    expect(() => cdDiagramSpec({ methods: ['a', 'b'], averageRanks: [1, 2], cd: 0 })).toThrow(/option cd/);
    expect(() => cdDiagramSpec({ methods: ['a', 'b'], averageRanks: [1, 2], cd: 2, groups: [['a', 'z']] })).toThrow(/option groups.*'z' is not one of the methods/s);
  });
});
