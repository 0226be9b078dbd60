import type { TopLevelSpec } from 'vega-lite';
import { ConfigError } from '@chainz/core';
import { notSignificantlyDifferentGroups, type MultipleComparisonResult } from '@chainz/metrics';

/** What a critical-difference diagram shows. */
export interface CdDiagramInput {
  /** Method names (k ≥ 2), in the order of `averageRanks`. */
  methods: readonly string[];
  /** Average rank of each method over the data sets, in [1, k] (1 = best). */
  averageRanks: readonly number[];
  /** The critical difference (e.g. Nemenyi's at α = 0.05), > 0. */
  cd: number;
  /**
   * Groups of methods not significantly different (thick bars). Default: the
   * maximal runs of methods whose rank range is < CD (`notSignificantlyDifferentGroups`).
   */
  groups?: readonly (readonly string[])[];
  /** Title (default none). */
  title?: string;
  /** Text beside the CD bar (default `CD = <cd to 2 decimals>`). */
  cdLabel?: string;
  /** Width of the rank axis in pixels (default 480). */
  width?: number;
}

const TICK = 0.12; // tick length, y units
const ROW = 0.42; // vertical distance between method rows
const GROUP_GAP = 0.2; // vertical distance between group bars

interface Segment {
  x: number;
  x2: number;
  y: number;
  y2: number;
  w: number;
}
interface Label {
  x: number;
  y: number;
  text: string;
}

/**
 * A critical-difference diagram (Demšar 2006, Fig. 1) as a Vega-Lite spec
 * (render it with `renderVegaLiteSvg` / `writeVegaLiteSvg`): an axis of average
 * ranks from k (left) to 1 (right, the best), the CD drawn as an interval above
 * the axis, each method hanging from its average rank by a line to its name —
 * the better half on the right, the others on the left — and a thick bar under
 * the axis joining each group of methods whose ranks differ by less than CD
 * (not significantly different).
 *
 * @param input methods, average ranks, CD, optional groups and title.
 * @returns a Vega-Lite spec (layers of rule and text marks over fixed scales; no data file).
 * @throws ConfigError for k < 2, mismatched lengths, ranks outside [1, k], a
 *   non-positive CD or a group naming an unknown method.
 */
export function cdDiagramSpec(input: CdDiagramInput): TopLevelSpec {
  const { methods, averageRanks: R, cd } = input;
  const k = methods.length;
  if (k < 2) throw new ConfigError(`a CD diagram needs at least 2 methods, got ${k}`, { option: 'methods' });
  if (R.length !== k) throw new ConfigError(`has ${R.length} average ranks for ${k} methods`, { option: 'averageRanks' });
  const bad = R.findIndex((r) => !(r >= 1 && r <= k));
  if (bad >= 0) throw new ConfigError(`average rank of '${methods[bad]}' is ${R[bad]}, outside [1, ${k}]`, { option: 'averageRanks' });
  if (!(cd > 0 && Number.isFinite(cd))) throw new ConfigError(`must be a finite number > 0, got ${cd}`, { option: 'cd' });
  const index = new Map(methods.map((m, j) => [m, j]));
  const groups = (input.groups ?? notSignificantlyDifferentGroups(R, cd).map((g) => g.map((j) => methods[j]))).map((g) =>
    g.map((name) => {
      const j = index.get(name);
      if (j === undefined) throw new ConfigError(`group member '${name}' is not one of the methods`, { option: 'groups' });
      return j;
    }),
  );

  const segments: Segment[] = [];
  const thick: Segment[] = [];
  const rule = (x: number, x2: number, y: number, y2: number, w = 1) => segments.push({ x, x2, y, y2, w });
  // axis with integer ticks (labels above) and half ticks
  rule(1, k, 0, 0);
  const tickLabels: Label[] = [];
  for (let r = 1; r <= k; r++) {
    rule(r, r, 0, TICK);
    tickLabels.push({ x: r, y: TICK + 0.06, text: String(r) });
    if (r < k) rule(r + 0.5, r + 0.5, 0, TICK / 2);
  }
  // CD interval above the axis, starting at the worst end
  const cdY = TICK + 0.55;
  const cdEnd = Math.max(1, k - cd);
  rule(k, cdEnd, cdY, cdY);
  rule(k, k, cdY - TICK / 2, cdY + TICK / 2);
  rule(cdEnd, cdEnd, cdY - TICK / 2, cdY + TICK / 2);
  const cdText: Label[] = [{ x: (k + cdEnd) / 2, y: cdY + 0.08, text: input.cdLabel ?? `CD = ${cd.toFixed(2)}` }];
  // group bars under the axis, slightly past their end ranks
  groups.forEach((g, i) => {
    const lo = Math.min(...g.map((j) => R[j]));
    const hi = Math.max(...g.map((j) => R[j]));
    const y = -0.3 - i * GROUP_GAP;
    thick.push({ x: lo - 0.04, x2: hi + 0.04, y, y2: y, w: 4 });
  });
  // methods: best half on the right, hanging by an elbow line to their names
  const order = methods.map((_, j) => j).sort((a, b) => R[a] - R[b] || a - b);
  const nRight = Math.ceil(k / 2);
  const top = -0.3 - Math.max(groups.length, 1) * GROUP_GAP - 0.25;
  const right: Label[] = [];
  const left: Label[] = [];
  const edgeRight = 1 - 0.35;
  const edgeLeft = k + 0.35;
  order.forEach((j, pos) => {
    const onRight = pos < nRight;
    const row = onRight ? pos : k - 1 - pos; // outermost rows for the extremes
    const y = top - row * ROW;
    rule(R[j], R[j], 0, y);
    rule(R[j], onRight ? edgeRight : edgeLeft, y, y);
    (onRight ? right : left).push({ x: onRight ? edgeRight : edgeLeft, y, text: `${methods[j]} (${R[j].toFixed(2)})` });
  });
  const yMin = top - (Math.max(nRight, k - nRight) - 1) * ROW - 0.2;
  const yMax = cdY + 0.45;
  const width = input.width ?? 480;
  const height = Math.round((width / (k + 0.7)) * (yMax - yMin) * 0.9);
  const x = { field: 'x', type: 'quantitative' as const, scale: { domain: [edgeRight, edgeLeft], reverse: true, nice: false, zero: false }, axis: null };
  const y = { field: 'y', type: 'quantitative' as const, scale: { domain: [yMin, yMax], nice: false, zero: false }, axis: null };
  const text = (values: Label[], align: 'left' | 'right' | 'center', baseline: 'middle' | 'bottom', dx: number, fontSize = 12) => ({
    data: { values },
    mark: { type: 'text' as const, align, baseline, dx, fontSize, font: 'sans-serif' },
    encoding: { x, y, text: { field: 'text', type: 'nominal' as const } },
  });
  const rules = (values: Segment[], color: string) => ({
    data: { values },
    mark: { type: 'rule' as const, color, strokeCap: 'butt' as const },
    encoding: { x, x2: { field: 'x2' }, y, y2: { field: 'y2' }, strokeWidth: { field: 'w', type: 'quantitative' as const, scale: null, legend: null } },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(input.title ? { title: input.title } : {}),
    width,
    height,
    config: { view: { stroke: null } },
    layer: [rules(segments, 'black'), rules(thick, 'black'), text(tickLabels, 'center', 'bottom', 0, 11), text(cdText, 'center', 'bottom', 0, 11), text(right, 'left', 'middle', 4), text(left, 'right', 'middle', -4)],
  } as TopLevelSpec;
}

/**
 * {@link cdDiagramSpec} for the result of `multipleComparison` (`@chainz/metrics`):
 * its average ranks, Nemenyi CD and groups.
 * @param r the comparison. @param opts title, width.
 */
export function cdDiagramFromComparison(r: MultipleComparisonResult, opts: { title?: string; width?: number } = {}): TopLevelSpec {
  return cdDiagramSpec({
    methods: r.methods,
    averageRanks: r.averageRanks,
    cd: r.nemenyi.cd,
    groups: r.nemenyi.groups,
    cdLabel: `CD = ${r.nemenyi.cd.toFixed(2)} (Nemenyi, α = ${r.alpha})`,
    ...opts,
  });
}
