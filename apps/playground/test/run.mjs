#!/usr/bin/env node
// Playground tests in headless Chromium (Debian package via playwright-core).
// Serves the BUILT playground (apps/playground/dist: `pnpm playground:build`)
// on 127.0.0.1 and checks, through the page's own controls:
//   - it loads with no console error and no request leaving the server (offline:
//     wasm binaries bundled), every control has an accessible name;
//   - on wasm, cpu and webgpu (SwiftShader) a short training lowers the loss;
//   - pause / resume from the keyboard; the curve and surface canvases are not blank;
//   - a CSV file is parsed in the page, a malformed one gives a located error;
//   - the exported model (tfjs format, two downloads) loads in Node with
//     @chainz/poly-layer and gives the page's predictions;
//   - the time a ChainzRule model takes to reach 95% test accuracy on the
//     spirals on wasm (printed, not asserted: speed is measured, not tested).
// Writes a screenshot to artifacts/playground.png (repository root; git-ignored).
// Ends with `[playground] P of N checks passed`; exit 1 on any failure.
//
//   node apps/playground/test/run.mjs [--report <file.json>] [--screenshot <file.png>] [--docs-screenshot <file.png>] [--only 1,2,3,4]
//
// Environment: CHROMIUM_PATH, CHAINZ_PLAYGROUND_REPORT (same as --report).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, serveStatic } from '../../../scripts/browser/chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const app = path.resolve(here, '..');
const root = path.resolve(app, '../..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const reportFile = opt('--report', process.env.CHAINZ_PLAYGROUND_REPORT || undefined);
const screenshotFile = path.resolve(root, opt('--screenshot', 'artifacts/playground.png'));
// --docs-screenshot <file>: also the first screen (1280 × 860) alone, the README's picture (docs/img/playground.png)
const docsScreenshot = opt('--docs-screenshot') ? path.resolve(root, opt('--docs-screenshot')) : undefined;
const dist = path.join(app, 'dist');
// --only 1,3 runs some of the scenarios (1 wasm, 2 spirals + export, 3 cpu + Pima, 4 webgpu)
const only = opt('--only') ? new Set(opt('--only').split(',').map(Number)) : null;
const want = (n) => only === null || only.has(n);

const results = [];
const info = {};
const t0 = Date.now();
const check = (name, ok, detail = '') => {
  results.push({ name, ok: Boolean(ok), detail });
  console.log(`${ok ? '✓' : '✗'} [playground] ${name}${detail ? ` — ${detail}` : ''}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until `fn` (evaluated in the page) is truthy; returns its value. */
async function until(page, fn, arg, timeoutMs, what) {
  try {
    const h = await page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 100 });
    return await h.jsonValue();
  } catch {
    const err = await page.evaluate(() => window.__playground?.lastError).catch(() => undefined);
    throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${err ? ` (page error: ${err})` : ''}`);
  }
}

/** Opens the page with query settings, waits for the models; collects console errors and foreign requests. */
async function open(context, base, query) {
  const page = await context.newPage();
  const problems = { console: [], foreign: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') problems.console.push(m.text());
    if (m.type() === 'error' || m.type() === 'warning') console.log(`  [console.${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.console.push(`uncaught: ${e?.message ?? e}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.foreign.push(u);
  });
  await page.goto(`${base}/?${query}`);
  await until(page, () => window.__playground?.ready && !window.__playground.busy && (window.__playground.runs().length > 0 || window.__playground.lastError), undefined, 120_000, 'the models to be built');
  const err = await page.evaluate(() => window.__playground.lastError);
  if (err) throw new Error(`the page reports: ${err}`);
  return { page, problems };
}

const runs = (page) => page.evaluate(() => window.__playground.runs());

/** Trains with the Train button until every model has done `steps` steps (or `timeoutMs`), then pauses. */
async function trainSteps(page, steps, timeoutMs) {
  await page.click('#train');
  await until(page, (n) => window.__playground.runs().every((r) => r.step >= n), steps, timeoutMs, `${steps} steps`);
  await page.click('#train');
  await until(page, () => !window.__playground.running && !window.__playground.busy, undefined, 30_000, 'the pause');
  await sleep(100);
  return runs(page);
}

function lossDrop(r) {
  const h = r.history;
  return { first: h[0].loss, last: h[h.length - 1].loss, steps: r.step };
}

/** Share of canvas pixels near `rgb` (within 40 per channel), or of non-background pixels when rgb is null. */
async function canvasStats(page, selector) {
  return page.evaluate((sel) => {
    return [...document.querySelectorAll(sel)].map((c) => {
      const ctx = c.getContext('2d');
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      const counts = new Map();
      for (let i = 0; i < data.length; i += 4) {
        const k = (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3];
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      const n = data.length / 4;
      const top = Math.max(...counts.values());
      const near = (r, g, b) => {
        let m = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && Math.abs(data[i] - r) < 40 && Math.abs(data[i + 1] - g) < 40 && Math.abs(data[i + 2] - b) < 40) m++;
        return m / n;
      };
      return { w: c.width, h: c.height, colours: counts.size, nonBackground: 1 - top / n, blue: near(0, 114, 178) };
    });
  }, selector);
}

let browser;
let server;
try {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${path.relative(root, dist)} is missing: run pnpm playground:build first`);
  server = await serveStatic(dist);
  browser = await launchChromium({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const { context } = browser;

  // 1. wasm: three models side by side on the two spirals; keyboard; pictures; screenshot.
  if (want(1)) {
    const { page, problems } = await open(context, server.url, 'backend=wasm&dataset=spirals&models=cr,relu,gelu&points=400');
    const backend = await page.evaluate(() => window.__playground.backend);
    check('wasm: the picker activates wasm and says why the others were skipped', backend.name === 'wasm' && backend.skipped.length >= 2,
      `${backend.label}; ${backend.skipped.map((s) => `${s.name}: ${s.reason}`).join(' | ')}`);
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, button, textarea')]
        .filter((el) => !(el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.labels && el.labels.length > 0) || (el.tagName === 'BUTTON' && el.textContent.trim())))
        .map((el) => el.id || el.name || el.tagName),
    );
    check('every control has an accessible name (label, aria-label or text)', unnamed.length === 0, unnamed.length ? `unnamed: ${unnamed.join(', ')}` : '');

    // start with the keyboard: focus the Train button, press Space; pause and resume with the `t` shortcut
    await page.focus('#train');
    await page.keyboard.press('Space');
    await until(page, () => window.__playground.runs()[0].step >= 60, undefined, 60_000, '60 steps');
    await page.keyboard.press('t');
    await until(page, () => !window.__playground.running && !window.__playground.busy, undefined, 30_000, 'the pause');
    await sleep(150);
    const paused = (await runs(page))[0].step;
    await sleep(600);
    const still = (await runs(page))[0].step;
    check('keyboard: Space on Train starts, `t` pauses (no step while paused)', paused >= 60 && still === paused, `paused at step ${paused}, ${still} after 0.6 s`);
    await page.keyboard.press('t');
    await until(page, (n) => window.__playground.runs()[0].step >= n + 150, paused, 60_000, 'training to resume');
    await page.keyboard.press('t');
    await until(page, () => !window.__playground.running && !window.__playground.busy, undefined, 30_000, 'the pause');
    const rs = await runs(page);
    for (const r of rs) {
      const d = lossDrop(r);
      check(`wasm: training lowers the loss (${r.label})`, d.last < 0.8 * d.first, `loss ${d.first.toFixed(4)} → ${d.last.toFixed(4)} in ${d.steps} steps, test accuracy ${(100 * r.history.at(-1).testAcc).toFixed(1)}%`);
    }
    const cr = rs.find((r) => r.kind === 'cr');
    const dreg = cr.history.at(-1).dregShare;
    check('ChainzRule: the DREG share of the loss is recorded (0 < share < 1)', dreg > 0 && dreg < 1, `share ${dreg.toExponential(2)}`);
    check('τ is recorded for every model', rs.every((r) => r.history.some((h) => Number.isFinite(h.tau))), rs.map((r) => `${r.label}: ${r.history.filter((h) => h.tau !== undefined).at(-1)?.tau?.toFixed(2)}`).join(', '));
    const curves = await canvasStats(page, '#chart-loss canvas');
    check('the loss chart is not blank (ChainzRule curve drawn)', curves.length > 0 && curves[0].blue > 0.001, JSON.stringify(curves[0]));
    const surfaces = await canvasStats(page, '#surfaces canvas');
    check('three decision surfaces, none blank', surfaces.length === 3 && surfaces.every((s) => s.colours > 50 && s.nonBackground > 0.2), surfaces.map((s) => `${s.colours} colours, ${(100 * s.nonBackground).toFixed(0)}% non-background`).join('; '));
    const acts = await canvasStats(page, '#activations canvas');
    check('σ and σ′ charts for each ChainzRule layer, not blank', acts.length === 4 && acts.every((s) => s.blue > 0.001), `${acts.length} charts`);
    mkdirSync(path.dirname(screenshotFile), { recursive: true });
    await page.screenshot({ path: screenshotFile, fullPage: true });
    if (docsScreenshot) await page.screenshot({ path: docsScreenshot, clip: { x: 0, y: 0, width: 1280, height: 860 } });
    info.screenshot = path.relative(root, screenshotFile);
    console.log(`  screenshot: ${info.screenshot}`);

    // CSV: a valid file parsed in the page, then a malformed one named by row and column
    const csv = 'a,b,c,label\n' + Array.from({ length: 60 }, (_, i) => `${(i % 7) / 3},${(i % 5) - 2},${i % 3},${i % 2 ? 'yes' : 'no'}`).join('\n') + '\n';
    await page.setInputFiles('#csv-file', { name: 'mini.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await until(page, () => window.__playground.dataset()?.name === 'mini.csv' && !window.__playground.busy, undefined, 30_000, 'the CSV');
    const ds = await page.evaluate(() => window.__playground.dataset());
    const surfaceHint = await page.textContent('#surfaces');
    check('a CSV file is parsed in the page (3 features, 2 classes, 80/20 split)', ds.d === 3 && ds.classes === 2 && ds.nTrain + ds.nTest === 60, `${ds.nTrain} train / ${ds.nTest} test; surface: ${surfaceHint.trim()}`);
    await page.setInputFiles('#csv-file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b,label\n1,2,x\n3,oops,y\n') });
    await until(page, () => document.querySelector('#status').classList.contains('error'), undefined, 30_000, 'the CSV error');
    const status = await page.textContent('#status');
    check('a malformed CSV gives a located error in the page', /row 3/.test(status) && /column 2/.test(status), status.trim());

    check('wasm page: no console errors', problems.console.length === 0, problems.console.join(' | '));
    check('offline: no request leaves the page\'s server (no CDN)', problems.foreign.length === 0, problems.foreign.slice(0, 5).join(' | '));
    info.wasmFiles = server.requests.filter((p) => p.endsWith('.wasm'));
    await page.close();
  }

  // 2. Spirals, ChainzRule alone on wasm: time to 95% test accuracy; then export → Node.
  if (want(2)) {
    const { page, problems } = await open(context, server.url, 'backend=wasm&dataset=spirals&models=cr&points=400');
    const start = Date.now();
    await page.click('#train');
    let reached;
    try {
      reached = await until(page, () => {
        const r = window.__playground.runs()[0];
        const h = r.history.find((p) => p.testAcc >= 0.95);
        return h ? { step: h.step, testAcc: h.testAcc, ...window.__playground.timings } : null;
      }, undefined, 60_000, 'ChainzRule to reach 95% test accuracy on the spirals');
    } catch (e) {
      reached = { error: String(e.message) };
    }
    const wallMs = Date.now() - start;
    await page.click('#train');
    await until(page, () => !window.__playground.running && !window.__playground.busy, undefined, 30_000, 'the pause');
    info.spiralsWasm = { ...reached, wallMs };
    check('spirals on wasm: ChainzRule reaches 95% test accuracy', reached.step !== undefined,
      reached.step !== undefined ? `step ${reached.step}, ${(wallMs / 1000).toFixed(1)} s after clicking Train (steps ${(reached.trainMs / 1000).toFixed(1)} s, evaluation ${(reached.recordMs / 1000).toFixed(1)} s, drawing ${(reached.renderMs / 1000).toFixed(1)} s)` : reached.error);
    console.log(`  spirals-on-wasm: ChainzRule reached ${reached.testAcc !== undefined ? (100 * reached.testAcc).toFixed(1) : '?'}% test accuracy at step ${reached.step} in ${(wallMs / 1000).toFixed(1)} s (wall, from the click)`);

    // export: tfjs's download handler writes model.json + model.weights.bin
    const dir = mkdtempSync(path.join(tmpdir(), 'chainz-export-'));
    try {
      const downloads = [];
      const got = new Promise((resolve) => {
        page.on('download', async (d) => {
          await d.saveAs(path.join(dir, d.suggestedFilename()));
          downloads.push(d.suggestedFilename());
          if (downloads.length === 2) resolve();
        });
      });
      await page.selectOption('#export-model', 'cr');
      await page.click('#export');
      await Promise.race([got, sleep(30_000)]);
      check('export downloads model.json and model.weights.bin', downloads.sort().join(',') === 'model.json,model.weights.bin', downloads.join(', '));
      const ds = await page.evaluate(() => window.__playground.dataset());
      const pagePred = await page.evaluate(([x, d]) => window.__playground.predict('cr', x, d), [ds.xTest, ds.d]);
      const node = await predictInNode(dir, ds.xTest, ds.d);
      for (const [backend, pred] of Object.entries(node)) {
        let maxDiff = 0;
        let argmaxSame = true;
        const c = pred.length / (ds.xTest.length / ds.d);
        for (let i = 0; i < pred.length; i++) maxDiff = Math.max(maxDiff, Math.abs(pred[i] - pagePred[i]));
        for (let i = 0; i < pred.length / c; i++) {
          const a = pred.slice(i * c, (i + 1) * c);
          const b = pagePred.slice(i * c, (i + 1) * c);
          if (a.indexOf(Math.max(...a)) !== b.indexOf(Math.max(...b))) argmaxSame = false;
        }
        info[`exportMaxDiff_${backend}`] = maxDiff;
        check(`export → Node loadModel (${backend}): same predictions as the page (wasm)`, argmaxSame && maxDiff <= 1e-5,
          `${pred.length / c} test points, same classes: ${argmaxSame}, max |Δp| = ${maxDiff.toExponential(2)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    check('spirals page: no console errors', problems.console.length === 0, problems.console.join(' | '));
    await page.close();
  }

  // 3. cpu, and Pima (8 features) through the dataset control.
  if (want(3)) {
    const { page, problems } = await open(context, server.url, 'backend=cpu&dataset=moons&models=cr,relu&points=200');
    const backend = await page.evaluate(() => window.__playground.backend.name);
    const rs = await trainSteps(page, 40, 120_000);
    for (const r of rs) {
      const d = lossDrop(r);
      check(`cpu: training lowers the loss (${r.label})`, backend === 'cpu' && d.last < 0.9 * d.first, `${backend}: loss ${d.first.toFixed(4)} → ${d.last.toFixed(4)} in ${d.steps} steps`);
    }
    await page.selectOption('#dataset', 'pima');
    await until(page, () => window.__playground.dataset()?.name === 'pima' && !window.__playground.busy, undefined, 60_000, 'Pima');
    const before = (await runs(page))[0].history.at(-1).loss;
    for (let i = 0; i < 5; i++) {
      await page.click('#step');
      await until(page, () => !window.__playground.busy, undefined, 30_000, 'a step');
    }
    const pima = await runs(page);
    const ds = await page.evaluate(() => window.__playground.dataset());
    check('Pima (embedded) trains with the Step button', ds.d === 8 && pima[0].step === 5 && pima[0].history.at(-1).loss < before, `${ds.nTrain}/${ds.nTest} rows, loss ${before.toFixed(4)} → ${pima[0].history.at(-1).loss.toFixed(4)}`);
    check('cpu page: no console errors', problems.console.length === 0, problems.console.join(' | '));
    await page.close();
  }

  // 4. webgpu on SwiftShader: tiny (it is slow).
  if (want(4)) {
    const { page, problems } = await open(context, server.url, 'backend=webgpu&dataset=xor&models=cr&points=100&width=8&layers=1');
    const backend = await page.evaluate(() => window.__playground.backend);
    const start = Date.now();
    const rs = await trainSteps(page, 15, 240_000);
    const d = lossDrop(rs[0]);
    info.webgpu = { adapter: backend.label, steps: d.steps, wallMs: Date.now() - start };
    check('webgpu: training lowers the loss (ChainzRule)', backend.name === 'webgpu' && d.last < d.first, `${backend.label}: loss ${d.first.toFixed(4)} → ${d.last.toFixed(4)} in ${d.steps} steps, ${((Date.now() - start) / 1000).toFixed(1)} s`);
    const surfaces = await canvasStats(page, '#surfaces canvas');
    check('webgpu: decision surface not blank', surfaces.length === 1 && surfaces[0].colours > 20, `${surfaces[0]?.colours} colours`);
    check('webgpu page: no console errors', problems.console.length === 0, problems.console.join(' | '));
    await page.close();
  }
} catch (e) {
  check('playground harness', false, String(e?.stack ?? e));
} finally {
  await browser?.close();
  await server?.close();
}

/** Loads the exported model in Node with @chainz/poly-layer (built dist) and predicts on cpu and wasm. */
async function predictInNode(dir, x, d) {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await import('@tensorflow/tfjs-backend-wasm');
  await import('@tensorflow/tfjs-layers'); // gradients + layers in Node
  const { loadModel } = await import('@chainz/poly-layer');
  const out = {};
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    await tf.ready();
    const model = await loadModel(dir);
    const p = tf.tidy(() => tf.softmax(model.predict(tf.tensor2d(x, [x.length / d, d]))));
    out[backend] = Array.from(await p.data());
    p.dispose();
    model.dispose();
  }
  return out;
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`[playground] info: ${JSON.stringify(info)}`);
console.log(`[playground] wall time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (reportFile) writeFileSync(reportFile, JSON.stringify({ passed, failed, results, info }, null, 2));
console.log(`[playground] ${passed} of ${results.length} checks passed${failed > 0 ? `, ${failed} FAILED` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
