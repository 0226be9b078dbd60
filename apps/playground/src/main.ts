/**
 * ChainzRule playground: wires the settings form, the backend picker, the
 * training loop (pause / resume / step), the pictures and the export.
 *
 * Settings can also come from the URL query (`?dataset=moons&models=cr,relu&backend=wasm`,
 * any field name of the form); the page keeps the query in sync, so a link
 * reproduces a configuration.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, isChainzError, type BackendResolution } from '@chainz/core';
import { DEFAULT_DREG_LAMBDA } from '@chainz/dreg';
import type { PolyGuard } from '@chainz/poly-layer';
import { activateBackend, BACKEND_CHOICES, describeActive, type BackendChoice } from './backend';
import { ActivationChart, CurveCharts, MODEL_COLORS } from './charts';
import { loadDataset, type Dataset, type DataSettings } from './datasets';
import {
  activationCurves,
  buildRun,
  dataTensors,
  disposeRun,
  MODEL_KINDS,
  polyCoefficients,
  predictProba,
  record,
  recordInitial,
  trainStep,
  type DataTensors,
  type ModelKind,
  type ModelSettings,
  type Run,
} from './models';
import { surfaceBounds, surfaceGrid, SurfaceView, GRID } from './surface';
import './style.css';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('settings');
const statusEl = $('status');
const trainBtn = $<HTMLButtonElement>('train');
const stepBtn = $<HTMLButtonElement>('step');
const resetBtn = $<HTMLButtonElement>('reset');
const exportSel = $<HTMLSelectElement>('export-model');
const exportBtn = $<HTMLButtonElement>('export');
const backendSel = $<HTMLSelectElement>('backend');

/** Milliseconds of training per animation frame before the pictures are redrawn. */
const FRAME_BUDGET_MS = 60;
/** At most this many steps per frame (webgpu queues work asynchronously). */
const MAX_STEPS_PER_FRAME = 50;
/** τ is recomputed at most this often while training (ms). */
const TAU_EVERY_MS = 1000;
/** Decision surfaces and activation curves are redrawn at most this often while training (ms). */
const PICTURES_EVERY_MS = 300;

interface State {
  backend?: BackendResolution;
  backendLabel: string;
  ds?: Dataset;
  data?: DataTensors;
  runs: Run[];
  running: boolean;
  busy: boolean;
  /** The training loop has not returned yet (it finishes its frame after a pause). */
  looping: boolean;
  loop?: Promise<void>;
  generation: number;
  lastTau: number;
  lastPictures: number;
  surfaces: Map<ModelKind, SurfaceView>;
  activations: ActivationChart[];
  /** Time spent in training steps, in reading losses / evaluating (incl. τ), and in drawing (ms). */
  trainMs: number;
  recordMs: number;
  renderMs: number;
  lastError?: string;
}

const state: State = { backendLabel: '', runs: [], running: false, busy: false, looping: false, generation: 0, lastTau: 0, lastPictures: 0, surfaces: new Map(), activations: [], trainMs: 0, recordMs: 0, renderMs: 0 };
const curves = new CurveCharts({ loss: $('chart-loss'), acc: $('chart-acc'), dreg: $('chart-dreg'), tau: $('chart-tau') }, $('curves-legend'));
let csv: { text: string; name: string } | undefined;

function setStatus(text: string, error = false): void {
  statusEl.textContent = text;
  statusEl.classList.toggle('error', error);
}

function reportError(e: unknown): void {
  const msg = isChainzError(e) ? `${e.message}${e.hint ? ` — ${e.hint}` : ''}` : String((e as Error)?.message ?? e);
  state.lastError = msg;
  setStatus(msg, true);
  if (!isChainzError(e)) console.error(e);
}

// ---------- settings ----------

function field(name: string): HTMLInputElement | HTMLSelectElement {
  return form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement;
}
/** A number field's value. @throws ConfigError naming the field when it is empty, not a number or outside its min/max/step. */
function num(name: string): number {
  const el = field(name) as HTMLInputElement;
  const v = Number(el.value);
  if (el.value.trim() === '' || !Number.isFinite(v) || !el.validity.valid) {
    const label = el.labels?.[0]?.textContent ?? name;
    throw new ConfigError(`${label}: ${JSON.stringify(el.value)} is not allowed (${[el.min && `min ${el.min}`, el.max && `max ${el.max}`, el.step && el.step !== 'any' && `step ${el.step}`].filter(Boolean).join(', ')})`, { option: name });
  }
  return v;
}
function selectedModels(): ModelKind[] {
  return [...form.querySelectorAll<HTMLInputElement>('input[name="model"]:checked')].map((c) => c.value as ModelKind);
}
function dataSettings(): DataSettings {
  const lc = field('label-column').value.trim();
  return {
    dataset: field('dataset').value as DataSettings['dataset'],
    points: num('points'),
    noise: num('noise'),
    seed: num('seed'),
    csvText: csv?.text,
    csvName: csv?.name,
    labelColumn: lc === '' ? undefined : Number(lc),
  };
}
function modelSettings(): ModelSettings {
  return {
    layers: num('layers'),
    width: num('width'),
    lr: num('lr'),
    degree: num('degree'),
    guard: field('guard').value as PolyGuard,
    lambda: num('lambda'),
    schedule: field('schedule').value as ModelSettings['schedule'],
    scheduleSteps: num('schedule-steps'),
    seed: num('seed'),
  };
}

const QUERY_FIELDS = ['dataset', 'points', 'noise', 'seed', 'layers', 'width', 'lr', 'degree', 'guard', 'lambda', 'schedule', 'schedule-steps', 'label-column'];

/** Applies `?name=value` settings from the URL to the form. */
function applyQuery(): void {
  const q = new URLSearchParams(location.search);
  for (const name of QUERY_FIELDS) {
    const v = q.get(name);
    if (v !== null) field(name).value = v;
  }
  const models = q.get('models');
  if (models !== null) {
    const want = new Set(models.split(','));
    for (const c of form.querySelectorAll<HTMLInputElement>('input[name="model"]')) c.checked = want.has(c.value);
  }
  const backend = q.get('backend');
  if (backend !== null && (BACKEND_CHOICES as readonly string[]).includes(backend)) backendSel.value = backend;
}

/** Writes the current settings into the URL query (replaceState, no reload). */
function syncQuery(): void {
  const q = new URLSearchParams();
  for (const name of QUERY_FIELDS) {
    const v = field(name).value;
    if (v !== '') q.set(name, v);
  }
  q.set('models', selectedModels().join(','));
  q.set('backend', backendSel.value);
  history.replaceState(null, '', `${location.pathname}?${q.toString()}`);
}

// ---------- building ----------

function disposeAll(): void {
  for (const r of state.runs) disposeRun(r);
  state.runs = [];
  if (state.data) tf.dispose(Object.values(state.data));
  state.data = undefined;
  for (const a of state.activations) a.destroy();
  state.activations = [];
  for (const s of state.surfaces.values()) s.element.remove();
  state.surfaces.clear();
}

/** Stops training, rebuilds dataset and models from the form; redraws everything. */
async function rebuild(): Promise<void> {
  const generation = ++state.generation;
  await halt();
  if (generation !== state.generation) return;
  state.busy = true;
  updateButtons();
  try {
    disposeAll();
    setStatus('Preparing data and models…');
    const ds = await loadDataset(dataSettings());
    if (generation !== state.generation) return;
    state.ds = ds;
    state.data = dataTensors(ds);
    const kinds = selectedModels();
    const ms = modelSettings();
    const runs: Run[] = [];
    for (const k of MODEL_KINDS) if (kinds.includes(k)) runs.push(await buildRun(k, ds, ms));
    if (generation !== state.generation) {
      runs.forEach(disposeRun);
      return;
    }
    state.runs = runs;
    state.trainMs = state.recordMs = state.renderMs = 0;
    state.lastTau = 0;
    $('data-info').textContent = `${ds.source}: ${ds.yTrain.length} train / ${ds.yTest.length} test rows, ${ds.d} features, ${ds.classNames.length} classes.`;
    buildPictures();
    for (const r of runs) await recordInitial(r, state.data, ms);
    await render();
    exportSel.replaceChildren(...runs.map((r) => new Option(r.label, r.kind)));
    setStatus(runs.length === 0 ? 'Choose at least one model.' : `Ready: ${runs.map((r) => r.label).join(', ')} on ${state.backendLabel}. Press Train.`);
  } catch (e) {
    reportError(e);
  } finally {
    if (generation === state.generation) state.busy = false;
    updateButtons();
  }
}

function buildPictures(): void {
  const ds = state.ds!;
  curves.reset(state.runs);
  const surfaces = $('surfaces');
  surfaces.replaceChildren();
  if (ds.d === 2) {
    for (const r of state.runs) {
      const v = new SurfaceView(r.label);
      state.surfaces.set(r.kind, v);
      surfaces.append(v.element);
    }
  } else {
    const p = document.createElement('p');
    p.className = 'hint';
    p.textContent = `The surface needs 2-D data (this set has ${ds.d} features).`;
    surfaces.append(p);
  }
  const acts = $('activations');
  acts.replaceChildren();
  const cr = state.runs.find((r) => r.kind === 'cr');
  if (!cr || !cr.polyConfig) {
    const p = document.createElement('p');
    p.className = 'hint';
    p.textContent = 'Select the ChainzRule model to see its activations.';
    acts.append(p);
    return;
  }
  const ln = cr.polyConfig.guard === 'layernorm';
  const z = Array.from({ length: 121 }, (_, i) => (ln ? -3 : -4) + (i / 120) * (ln ? 6 : 8));
  cr.initialCoeffs.forEach((coeffs, l) => {
    const init = activationCurves([coeffs[0]], cr.polyConfig!, z);
    const chart = new ActivationChart(`Layer ${l + 1} (${coeffs.length} ${coeffs.length > 1 ? 'units' : 'shared'})`, ln ? 'u (normalised)' : 'z', z, coeffs.length, { y: init.y[0], dy: init.dy[0] }, MODEL_COLORS.cr);
    state.activations.push(chart);
    acts.append(chart.element);
  });
}

// ---------- drawing ----------

/**
 * Redraws the curves, and — at most every {@link PICTURES_EVERY_MS} unless
 * `all` — the decision surfaces and the activation curves.
 */
async function render(all = true): Promise<void> {
  curves.update();
  const now = performance.now();
  if (!all && now - state.lastPictures < PICTURES_EVERY_MS) return;
  state.lastPictures = now;
  const ds = state.ds;
  if (!ds) return;
  if (ds.d === 2 && state.surfaces.size > 0) {
    const b = surfaceBounds(ds);
    const grid = surfaceGrid(b);
    for (const r of state.runs) {
      const view = state.surfaces.get(r.kind);
      if (!view) continue;
      const proba = await predictProba(r, grid, 2);
      const last = r.history.at(-1);
      view.draw(proba, ds.classNames.length, ds, b, `${r.label}${last ? ` — step ${last.step}, test accuracy ${(100 * last.testAcc).toFixed(1)}%` : ''}`);
    }
  }
  const cr = state.runs.find((r) => r.kind === 'cr');
  if (cr && cr.polyConfig && state.activations.length > 0) {
    const coeffs = await polyCoefficients(cr);
    const ln = cr.polyConfig.guard === 'layernorm';
    const z = Array.from({ length: 121 }, (_, i) => (ln ? -3 : -4) + (i / 120) * (ln ? 6 : 8));
    coeffs.forEach((c, l) => state.activations[l]?.update(activationCurves(c, cr.polyConfig!, z)));
  }
}

function summary(): string {
  const parts = state.runs.map((r) => {
    const h = r.history.at(-1);
    return h ? `${r.label}: loss ${h.loss.toFixed(3)}, test acc ${(100 * h.testAcc).toFixed(1)}%${h.tau !== undefined ? `, τ ${h.tau.toFixed(2)}` : ''}` : r.label;
  });
  const sec = (ms: number) => (ms / 1000).toFixed(1);
  return `Step ${state.runs[0]?.step ?? 0} (steps ${sec(state.trainMs)} s, evaluation ${sec(state.recordMs)} s, drawing ${sec(state.renderMs)} s). ${parts.join('; ')}`;
}

// ---------- training ----------

function updateButtons(): void {
  const none = state.runs.length === 0;
  trainBtn.textContent = state.running ? 'Pause' : state.runs[0]?.step ? 'Resume' : 'Train';
  trainBtn.setAttribute('aria-pressed', String(state.running));
  trainBtn.disabled = none || (state.busy && !state.running);
  stepBtn.disabled = none || state.busy || state.running;
  exportBtn.disabled = none || state.busy;
}

function stop(): void {
  state.running = false;
  updateButtons();
}

async function recordAll(): Promise<void> {
  const now = performance.now();
  const withTau = now - state.lastTau >= TAU_EVERY_MS;
  if (withTau) state.lastTau = now;
  for (const r of state.runs) await record(r, state.data!, withTau);
}

async function trainLoop(): Promise<void> {
  const generation = state.generation;
  state.looping = true;
  try {
    do {
      await trainFrames(generation);
      // paused: draw everything once more at the final state (unless resumed meanwhile)
      if (generation === state.generation) await render();
    } while (state.running && generation === state.generation);
  } finally {
    state.looping = false;
  }
}

/** Stops training and waits until the loop has returned (before models are disposed). */
async function halt(): Promise<void> {
  stop();
  await state.loop?.catch(() => undefined);
}

async function trainFrames(generation: number): Promise<void> {
  while (state.running && generation === state.generation) {
    const t0 = performance.now();
    let n = 0;
    while (n < MAX_STEPS_PER_FRAME && performance.now() - t0 < FRAME_BUDGET_MS) {
      for (const r of state.runs) trainStep(r, state.data!);
      n++;
    }
    const t1 = performance.now();
    state.trainMs += t1 - t0;
    await recordAll();
    const t2 = performance.now();
    state.recordMs += t2 - t1;
    if (generation !== state.generation) return;
    await render(false);
    state.renderMs += performance.now() - t2;
    setStatus(summary());
    await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
  }
}

function toggleTraining(): void {
  if (state.runs.length === 0 || (state.busy && !state.running)) return;
  state.running = !state.running;
  updateButtons();
  if (state.running) {
    setStatus(`Training on ${state.backendLabel}…`);
    // a loop still finishing its last frame picks the resume up itself
    if (!state.looping) {
      state.loop = trainLoop().catch((e) => {
        stop();
        reportError(e);
      });
    }
  } else {
    setStatus(`Paused. ${summary()}`);
  }
}

async function stepOnce(): Promise<void> {
  if (state.running || state.busy || state.runs.length === 0) return;
  state.busy = true;
  updateButtons();
  try {
    const t0 = performance.now();
    for (const r of state.runs) trainStep(r, state.data!);
    await recordAll();
    state.trainMs += performance.now() - t0;
    await render();
    setStatus(summary());
  } catch (e) {
    reportError(e);
  } finally {
    state.busy = false;
    updateButtons();
  }
}

async function exportModel(): Promise<void> {
  const run = state.runs.find((r) => r.kind === exportSel.value);
  if (!run) return;
  try {
    // tfjs's browser download handler: model.json (topology + manifest) and model.weights.bin
    await run.model.save('downloads://model');
    setStatus(`Saved ${run.label} at step ${run.step} as model.json + model.weights.bin. In Node: put both in one folder and call loadModel(folder) from @chainz/poly-layer.`);
  } catch (e) {
    reportError(e);
  }
}

// ---------- backend ----------

async function switchBackend(): Promise<void> {
  ++state.generation;
  await halt();
  const choice = backendSel.value as BackendChoice;
  $('backend-active').textContent = `starting ${choice}…`;
  try {
    disposeAll();
    state.backend = await activateBackend(choice);
    state.backendLabel = await describeActive(state.backend);
    $('backend-active').textContent = `active: ${state.backendLabel}`;
    $('backend-skipped').replaceChildren(
      ...state.backend.skipped.map((s) => {
        const li = document.createElement('li');
        li.textContent = `${s.name}${s.package ? ` (${s.package})` : ''}: ${s.reason}`;
        return li;
      }),
    );
  } catch (e) {
    $('backend-active').textContent = `failed: ${choice}`;
    const li = document.createElement('li');
    li.textContent = isChainzError(e) ? e.message : String(e);
    $('backend-skipped').replaceChildren(li);
    ($('backend-details') as HTMLDetailsElement).open = true;
    reportError(e);
    return;
  }
  await rebuild();
}

// ---------- CSV input ----------

async function readCsv(file: File): Promise<void> {
  try {
    csv = { text: await file.text(), name: file.name };
    $('csv-info').textContent = `${file.name}: ${(file.size / 1024).toFixed(1)} KB, parsed in this page.`;
    field('dataset').value = 'csv';
    showCsvBox();
    syncQuery();
    await rebuild();
  } catch (e) {
    reportError(e);
  }
}

function showCsvBox(): void {
  $('csv-box').hidden = field('dataset').value !== 'csv';
}

// ---------- events ----------

form.addEventListener('change', (ev) => {
  const t = ev.target as HTMLElement;
  if (t.id === 'csv-file' || t.id === 'export-model') return;
  showCsvBox();
  syncQuery();
  void rebuild();
});
form.addEventListener('submit', (ev) => ev.preventDefault());
$<HTMLInputElement>('csv-file').addEventListener('change', (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (f) void readCsv(f);
});
const drop = $('csv-box');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('dragover');
});
drop.addEventListener('dragleave', () => drop.classList.remove('dragover'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('dragover');
  const f = ev.dataTransfer?.files?.[0];
  if (f) void readCsv(f);
});
trainBtn.addEventListener('click', toggleTraining);
stepBtn.addEventListener('click', () => void stepOnce());
resetBtn.addEventListener('click', () => void rebuild());
exportBtn.addEventListener('click', () => void exportModel());
backendSel.addEventListener('change', () => {
  syncQuery();
  void switchBackend();
});
document.addEventListener('keydown', (ev) => {
  const t = ev.target as HTMLElement;
  if (ev.ctrlKey || ev.metaKey || ev.altKey || t.closest('input, select, textarea, [contenteditable]')) return;
  if (ev.key === 't') toggleTraining();
  else if (ev.key === 's') void stepOnce();
  else if (ev.key === 'r') void rebuild();
  else return;
  ev.preventDefault();
});
window.addEventListener('resize', () => curves.resize());

// ---------- test and automation hook ----------

/** Read-only view of the page's state, for tests and the console. */
const hook = {
  /** True once the first models are built (or the start failed: see `lastError`). */
  ready: false,
  get backend() {
    return state.backend ? { name: state.backend.name, label: state.backendLabel, skipped: state.backend.skipped.map((s) => ({ ...s })) } : undefined;
  },
  get running() {
    return state.running;
  },
  /** Building, stepping, or the training loop still finishing its frame. */
  get busy() {
    return state.busy || state.looping;
  },
  get lastError() {
    return state.lastError;
  },
  /** Milliseconds spent in training steps, evaluation (losses, accuracy, τ) and drawing since the last reset. */
  get timings() {
    return { trainMs: state.trainMs, recordMs: state.recordMs, renderMs: state.renderMs };
  },
  runs() {
    return state.runs.map((r) => ({ kind: r.kind, label: r.label, step: r.step, history: r.history.map((h) => ({ ...h })) }));
  },
  dataset() {
    const ds = state.ds;
    return ds ? { name: ds.name, d: ds.d, classes: ds.classNames.length, nTrain: ds.yTrain.length, nTest: ds.yTest.length, xTest: Array.from(ds.xTest) } : undefined;
  },
  /** Class probabilities of a model for row-major standardised inputs. */
  async predict(kind: ModelKind, x: number[], d: number): Promise<number[]> {
    const r = state.runs.find((q) => q.kind === kind);
    if (!r) throw new Error(`no model ${kind}`);
    return Array.from(await predictProba(r, Float32Array.from(x), d));
  },
  grid: GRID,
};
(window as unknown as { __playground: typeof hook }).__playground = hook;

// the package's default λ (10^−2.5), to 3 significant digits
field('lambda').value = String(Number(DEFAULT_DREG_LAMBDA.toPrecision(3)));
applyQuery();
showCsvBox();
void switchBackend().finally(() => {
  hook.ready = true;
});
