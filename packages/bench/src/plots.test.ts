import { describe, expect, it } from 'vitest';
import { renderVegaLiteSvg } from './plots';

describe('renderVegaLiteSvg', () => {
  it('renders a line chart with its data and title as SVG', async () => {
    const svg = await renderVegaLiteSvg({
      title: 'accuracy vs fraction',
      data: { values: [{ f: 1, acc: 0.4, model: 'cr' }, { f: 100, acc: 0.7, model: 'cr' }] },
      mark: 'line',
      encoding: { x: { field: 'f', type: 'quantitative' }, y: { field: 'acc', type: 'quantitative' }, color: { field: 'model' } },
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('accuracy vs fraction');
    expect(svg).toMatch(/<path[^>]+d="M/);
  });
});
