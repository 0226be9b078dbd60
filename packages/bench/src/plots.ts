import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomically } from './io';

/**
 * Render a Vega-Lite spec to an SVG string in Node (vega + vega-lite, no DOM,
 * no canvas: `renderer: 'none'`). Fonts are not embedded; text uses the
 * viewer's sans-serif.
 */
export async function renderVegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  const [{ compile }, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Render `spec` and write the SVG atomically to `file`. */
export async function writeVegaLiteSvg(file: string, spec: TopLevelSpec): Promise<void> {
  await writeFileAtomically(file, await renderVegaLiteSvg(spec));
}
