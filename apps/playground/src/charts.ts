/**
 * Live charts (uPlot, canvas): loss, accuracy, DREG share and τ per model, and
 * each PolyDense layer's σ(z) and σ′(z) with the initial curve ghosted.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ModelKind, Run } from './models';

/** Colour of each model (Okabe–Ito palette, colour-blind safe). */
export const MODEL_COLORS: Record<ModelKind, string> = { cr: '#0072B2', relu: '#D55E00', gelu: '#009E73' };
const GHOST = 'rgba(120, 120, 120, 0.75)';
const HEIGHT = 170;

function widthOf(el: HTMLElement): number {
  return Math.max(260, Math.floor(el.clientWidth || 330));
}

function baseOptions(el: HTMLElement, series: uPlot.Series[], yLabel: string, extra: Partial<uPlot.Options> = {}): uPlot.Options {
  return {
    width: widthOf(el),
    height: HEIGHT,
    // one legend for all charts (see CurveCharts.legend): model colours, solid train / dashed test
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false } },
    axes: [
      { label: 'step', size: 36, labelSize: 16 },
      { label: yLabel, size: 52, labelSize: 16 },
    ],
    series: [{ label: 'step' }, ...series],
    ...extra,
  };
}

type Metric = 'loss' | 'acc' | 'dreg' | 'tau';

/** The four training-curve charts. */
export class CurveCharts {
  private plots = new Map<Metric, uPlot>();
  private runs: Run[] = [];

  constructor(
    private readonly containers: Record<Metric, HTMLElement>,
    private readonly legend: HTMLElement,
  ) {}

  /** Recreates the charts for a new set of runs. */
  reset(runs: Run[]): void {
    for (const p of this.plots.values()) p.destroy();
    this.plots.clear();
    this.runs = runs;
    this.legend.replaceChildren(
      ...runs.map((r) => {
        const item = document.createElement('span');
        const swatch = document.createElement('i');
        swatch.style.background = MODEL_COLORS[r.kind];
        item.append(swatch, r.label);
        return item;
      }),
    );
    const solid = (r: Run, what: string): uPlot.Series => ({ label: `${r.label} ${what}`, stroke: MODEL_COLORS[r.kind], width: 2, spanGaps: true, points: { show: false } });
    const dashed = (r: Run, what: string): uPlot.Series => ({ ...solid(r, what), dash: [6, 4], width: 1.5 });
    const c = this.containers;
    this.plots.set('loss', new uPlot(baseOptions(c.loss, runs.flatMap((r) => [solid(r, 'train'), dashed(r, 'test')]), 'loss', { scales: { x: { time: false }, y: { distr: 3 } } }), [[]], c.loss));
    this.plots.set('acc', new uPlot(baseOptions(c.acc, runs.flatMap((r) => [solid(r, 'train'), dashed(r, 'test')]), 'accuracy', { scales: { x: { time: false }, y: { range: [0, 1] } } }), [[]], c.acc));
    const cr = runs.filter((r) => r.kind === 'cr');
    this.plots.set('dreg', new uPlot(baseOptions(c.dreg, cr.map((r) => solid(r, 'DREG / loss')), 'share', { scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(0.05, max * 1.1)] } } }), [[]], c.dreg));
    this.plots.set('tau', new uPlot(baseOptions(c.tau, runs.map((r) => ({ ...solid(r, 'τ'), points: { show: true, size: 4 } })), 'τ = p99 / mean'), [[]], c.tau));
    this.update();
  }

  /** Redraws from the runs' histories. */
  update(): void {
    const runs = this.runs;
    const ref = runs[0]?.history ?? [];
    const steps = ref.map((h) => h.step);
    const col = (r: Run, f: (h: Run['history'][number]) => number | null | undefined) => r.history.map((h) => f(h) ?? null);
    this.plots.get('loss')?.setData([steps, ...runs.flatMap((r) => [col(r, (h) => h.loss), col(r, (h) => h.testLoss)])] as uPlot.AlignedData);
    this.plots.get('acc')?.setData([steps, ...runs.flatMap((r) => [col(r, (h) => h.trainAcc), col(r, (h) => h.testAcc)])] as uPlot.AlignedData);
    this.plots.get('dreg')?.setData([steps, ...runs.filter((r) => r.kind === 'cr').map((r) => col(r, (h) => h.dregShare))] as uPlot.AlignedData);
    this.plots.get('tau')?.setData([steps, ...runs.map((r) => col(r, (h) => h.tau))] as uPlot.AlignedData);
  }

  resize(): void {
    for (const [m, p] of this.plots) p.setSize({ width: widthOf(this.containers[m]), height: HEIGHT });
  }
}

/** σ(z) and σ′(z) charts of one PolyDense layer: one line per unit, the initial curve in grey. */
export class ActivationChart {
  readonly element: HTMLElement;
  private readonly sigma: uPlot;
  private readonly dsigma: uPlot;

  /**
   * @param z the grid of pre-activations (x axis).
   * @param units number of coefficient rows (units, or 1 for layer sharing).
   * @param initial σ and σ′ of the initial coefficients (first row), for the ghost curve.
   */
  constructor(title: string, xLabel: string, private readonly z: number[], units: number, initial: { y: number[]; dy: number[] }, color: string) {
    this.element = document.createElement('figure');
    const cap = document.createElement('figcaption');
    cap.textContent = title;
    this.element.append(cap);
    const a = document.createElement('div');
    const b = document.createElement('div');
    a.className = b.className = 'chart';
    a.setAttribute('role', 'img');
    b.setAttribute('role', 'img');
    a.setAttribute('aria-label', `${title}: σ(z) of each unit`);
    b.setAttribute('aria-label', `${title}: σ′(z) of each unit`);
    this.element.append(a, b);
    const series = (what: string): uPlot.Series[] => [
      { label: `initial ${what}`, stroke: GHOST, width: 3, dash: [5, 3], points: { show: false } },
      ...Array.from({ length: units }, (_, i) => ({ label: `unit ${i + 1}`, stroke: hexAlpha(color, units > 1 ? 0.55 : 1), width: 1.25, points: { show: false }, show: true })),
    ];
    const opts = (what: string): uPlot.Options => ({
      width: 300,
      height: 160,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false } },
      axes: [
        { label: xLabel, size: 34, labelSize: 14 },
        { label: what, size: 44, labelSize: 14 },
      ],
      series: [{ label: xLabel }, ...series(what)],
    });
    this.sigma = new uPlot(opts('σ'), [z, initial.y, ...Array.from({ length: units }, () => initial.y)], a);
    this.dsigma = new uPlot(opts('σ′'), [z, initial.dy, ...Array.from({ length: units }, () => initial.dy)], b);
    this.initial = initial;
  }

  private readonly initial: { y: number[]; dy: number[] };

  /** New curves, one row per unit. */
  update(curves: { y: number[][]; dy: number[][] }): void {
    this.sigma.setData([this.z, this.initial.y, ...curves.y] as uPlot.AlignedData);
    this.dsigma.setData([this.z, this.initial.dy, ...curves.dy] as uPlot.AlignedData);
  }

  destroy(): void {
    this.sigma.destroy();
    this.dsigma.destroy();
    this.element.remove();
  }
}

function hexAlpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}
