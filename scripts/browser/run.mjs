#!/usr/bin/env node
// Browser tests: bundle scripts/browser/page.ts with esbuild, serve it on
// 127.0.0.1 (ephemeral port), open it in headless Chromium (Debian package,
// driven by playwright-core; never `playwright install`), and report the
// page's checks. Ends with `[browser] P of N checks passed` (.ci/run reads the JSON report, and alone prints the `N passed, N failed` line); exit 1 on any failure.
//
//   node scripts/browser/run.mjs [--report <file.json>] [--timeout <seconds>]
//
// Environment: CHROMIUM_PATH (default /usr/bin/chromium), CHAINZ_BROWSER_REPORT
// (same as --report). Chromium flags and launch: ./chromium.mjs.
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const reportFile = opt('--report', process.env.CHAINZ_BROWSER_REPORT || undefined);
const timeoutMs = Number(opt('--timeout', '240')) * 1000;

/** esbuild plugin: `@chainz/<pkg>` and `@chainz/<pkg>/<sub>` → packages/<pkg>/src (as in vitest.config.ts). */
const chainzSources = {
  name: 'chainz-sources',
  setup(b) {
    const pkgs = readdirSync(path.join(root, 'packages')).filter((d) => existsSync(path.join(root, 'packages', d, 'src', 'index.ts')));
    b.onResolve({ filter: /^@chainz\// }, (a) => {
      const m = /^@chainz\/([^/]+)(?:\/(.+))?$/.exec(a.path);
      if (!m || !pkgs.includes(m[1])) return undefined;
      return { path: path.join(root, 'packages', m[1], 'src', `${m[2] ?? 'index'}.ts`) };
    });
  },
};

const results = [];
let info = {};
const t0 = Date.now();

function finish() {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  for (const r of results) console.log(`${r.ok ? '✓' : '✗'} [browser] ${r.name}${r.detail ? ` — ${r.detail}` : ''}`);
  if (info && Object.keys(info).length > 0) console.log(`[browser] info: ${JSON.stringify(info)}`);
  console.log(`[browser] wall time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (reportFile) writeFileSync(reportFile, JSON.stringify({ passed, failed, results, info }, null, 2));
  console.log(`[browser] ${passed} of ${results.length} checks passed${failed > 0 ? `, ${failed} FAILED` : ''}`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
}

let server;
let browser;
try {
  const bundle = await build({
    entryPoints: [path.join(here, 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    logLevel: 'warning',
    plugins: [chainzSources],
  });
  const js = bundle.outputFiles[0].contents;
  const html = '<!doctype html><meta charset="utf-8"><title>ChainzRule-TS browser tests</title><script type="module" src="/page.js"></script>';

  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    } else if (url.pathname === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(js);
    } else if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  browser = await launchChromium();
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e?.stack ?? e)));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`[browser console.${m.type()}] ${m.text()}`);
  });
  await page.goto(`http://127.0.0.1:${port}/`);
  try {
    await page.waitForFunction(() => window.__chainzResults !== undefined, undefined, { timeout: timeoutMs, polling: 250 });
  } catch (e) {
    throw new Error(`the page did not report within ${timeoutMs / 1000} s${pageErrors.length ? `; page errors: ${pageErrors.join(' | ')}` : ''}`);
  }
  const report = await page.evaluate(() => window.__chainzResults);
  results.push(...report.results);
  info = report.info;
  if (pageErrors.length > 0) results.push({ name: 'no uncaught page errors', ok: false, detail: pageErrors.join(' | ') });
} catch (e) {
  results.push({ name: 'browser harness', ok: false, detail: String(e?.message ?? e) });
} finally {
  await browser?.close();
  server?.close();
  finish();
}
