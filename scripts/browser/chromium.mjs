// Shared by the browser test runners (scripts/browser/run.mjs,
// apps/playground/test/run.mjs): headless Debian Chromium driven by
// playwright-core (never `playwright install`), and a static file server on
// 127.0.0.1.
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Chromium executable: CHROMIUM_PATH, default the Debian package's. */
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Flags for WebGPU on SwiftShader without a GPU, offline and quiet (see PLATFORM notes in docs/browser.md). */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Launches headless Chromium with a fresh profile.
 * @returns the context and a `close()` that also removes the profile folder.
 * @throws Error naming the missing executable and how to install it.
 */
export async function launchChromium(options = {}) {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: apt-get install -y --no-install-recommends chromium (Debian), or set CHROMIUM_PATH`);
  }
  const userDir = mkdtempSync(path.join(tmpdir(), 'chainz-chromium-'));
  const context = await chromium.launchPersistentContext(userDir, { executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS, ...options });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.csv': 'text/csv; charset=utf-8',
};

/**
 * Serves `root` (a static folder) on 127.0.0.1 at an ephemeral port; `/` is
 * index.html. Requests that leave the folder get 403, missing files 404.
 * @returns `{ url, requests, close() }`; `requests` lists every path served.
 */
export async function serveStatic(root, headers = {}) {
  const requests = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname);
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = path.join(root, rel);
    if (!file.startsWith(path.resolve(root) + path.sep)) return void res.writeHead(403).end();
    if (!existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream', ...headers }).end(readFileSync(file));
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(r)) };
}
