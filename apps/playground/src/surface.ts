/**
 * Decision surface of a model on 2-D data: class probabilities on a grid,
 * blended from the class colours (more saturated = more confident), with the
 * training points (filled) and test points (outlined) on top.
 */
import type { Dataset } from './datasets';

/** Class colours (Okabe–Ito). */
export const CLASS_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
/** Grid cells per axis. */
export const GRID = 64;
const SIZE = 240;

function rgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The square region shown: the data's bounding box with a 10% margin. */
export function surfaceBounds(ds: Dataset): { x0: number; x1: number; y0: number; y1: number } {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const x of [ds.xTrain, ds.xTest]) {
    for (let i = 0; i < x.length; i += 2) {
      x0 = Math.min(x0, x[i]);
      x1 = Math.max(x1, x[i]);
      y0 = Math.min(y0, x[i + 1]);
      y1 = Math.max(y1, x[i + 1]);
    }
  }
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const half = (Math.max(x1 - x0, y1 - y0) / 2) * 1.1 || 1;
  return { x0: cx - half, x1: cx + half, y0: cy - half, y1: cy + half };
}

/** Grid points `[GRID², 2]` row-major, row 0 at the top (largest y). */
export function surfaceGrid(b: ReturnType<typeof surfaceBounds>): Float32Array {
  const g = new Float32Array(GRID * GRID * 2);
  for (let r = 0; r < GRID; r++) {
    for (let c = 0; c < GRID; c++) {
      const i = r * GRID + c;
      g[2 * i] = b.x0 + ((c + 0.5) / GRID) * (b.x1 - b.x0);
      g[2 * i + 1] = b.y1 - ((r + 0.5) / GRID) * (b.y1 - b.y0);
    }
  }
  return g;
}

/** One model's surface: a labelled canvas. */
export class SurfaceView {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  private readonly cells = document.createElement('canvas');

  constructor(private readonly label: string) {
    this.element = document.createElement('figure');
    this.caption = document.createElement('figcaption');
    this.caption.textContent = label;
    this.canvas = document.createElement('canvas');
    this.canvas.width = this.canvas.height = SIZE;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', `Decision surface of ${label}`);
    this.cells.width = this.cells.height = GRID;
    this.element.append(this.caption, this.canvas);
  }

  /**
   * Paints the surface.
   * @param proba class probabilities `[GRID², C]` of the grid points.
   */
  draw(proba: Float32Array, classes: number, ds: Dataset, b: ReturnType<typeof surfaceBounds>, caption: string): void {
    this.caption.textContent = caption;
    const cols = Array.from({ length: classes }, (_, k) => rgb(CLASS_COLORS[k % CLASS_COLORS.length]));
    const img = new ImageData(GRID, GRID);
    for (let i = 0; i < GRID * GRID; i++) {
      let r = 0;
      let g = 0;
      let bl = 0;
      let top = 0;
      for (let k = 0; k < classes; k++) {
        const p = proba[i * classes + k];
        r += p * cols[k][0];
        g += p * cols[k][1];
        bl += p * cols[k][2];
        top = Math.max(top, p);
      }
      // confidence 1/C → white, 1 → 45% of the class colour over white
      const w = 0.45 * Math.max(0, (top - 1 / classes) / (1 - 1 / classes));
      img.data[4 * i] = 255 + w * (r - 255);
      img.data[4 * i + 1] = 255 + w * (g - 255);
      img.data[4 * i + 2] = 255 + w * (bl - 255);
      img.data[4 * i + 3] = 255;
    }
    this.cells.getContext('2d')!.putImageData(img, 0, 0);
    const ctx = this.canvas.getContext('2d')!;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.cells, 0, 0, SIZE, SIZE);
    const px = (x: number) => ((x - b.x0) / (b.x1 - b.x0)) * SIZE;
    const py = (y: number) => ((b.y1 - y) / (b.y1 - b.y0)) * SIZE;
    const points = (x: Float32Array, y: Int32Array, filled: boolean) => {
      for (let i = 0; i < y.length; i++) {
        ctx.beginPath();
        ctx.arc(px(x[2 * i]), py(x[2 * i + 1]), filled ? 2.6 : 3.2, 0, 2 * Math.PI);
        const c = CLASS_COLORS[y[i] % CLASS_COLORS.length];
        if (filled) {
          ctx.fillStyle = c;
          ctx.fill();
          ctx.strokeStyle = 'rgba(255,255,255,0.8)';
          ctx.lineWidth = 0.8;
          ctx.stroke();
        } else {
          ctx.strokeStyle = c;
          ctx.lineWidth = 1.6;
          ctx.stroke();
        }
      }
    };
    points(ds.xTrain, ds.yTrain, true);
    points(ds.xTest, ds.yTest, false);
  }
}
