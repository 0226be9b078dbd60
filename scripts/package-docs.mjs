#!/usr/bin/env node
// Ships the documentation a package README links to inside the package: every
// README link `docs/<file>` is copied from the repository's docs/ folder into the
// package's own docs/ folder, with the files those docs link to in turn (so the
// links resolve in node_modules/@chainz/<pkg>/ too). Run from a package folder
// by its `prepack` script (pnpm pack / publish); packages/*/docs/ is git-ignored.
//
//   node ../../scripts/package-docs.mjs           copy into ./docs
//   node ../../scripts/package-docs.mjs --check   copy into a temporary folder and
//                                                 fail when a README or doc link does not resolve
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const docsRoot = path.join(root, 'docs');
const pkgDir = process.cwd();
const check = process.argv.includes('--check');

/** Relative link targets (no URL, no anchor-only link) of a Markdown file, without their #anchor. */
function links(file) {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1].split('#')[0])
    .filter((t) => t !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

const readme = path.join(pkgDir, 'README.md');
if (!existsSync(readme)) throw new Error(`${pkgDir}: no README.md`);
const out = check ? mkdtempSync(path.join(tmpdir(), 'chainz-pkg-docs-')) : path.join(pkgDir, 'docs');
const problems = [];
const queue = links(readme).filter((t) => t.startsWith('docs/') || t.startsWith('./docs/')).map((t) => path.normalize(t).replace(/^docs[\\/]/, ''));
const done = new Set();
while (queue.length > 0) {
  const rel = queue.shift();
  if (done.has(rel)) continue;
  done.add(rel);
  const src = path.join(docsRoot, rel);
  if (!src.startsWith(docsRoot + path.sep) || !existsSync(src)) {
    problems.push(`docs/${rel}: not in the repository's docs/ folder`);
    continue;
  }
  mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
  copyFileSync(src, path.join(out, rel));
  if (rel.endsWith('.md')) {
    for (const t of links(src)) {
      const target = path.normalize(path.join(path.dirname(rel), t));
      if (target.startsWith('..')) problems.push(`docs/${rel} links outside docs/: ${t}`);
      else queue.push(target);
    }
  }
}
// every other relative README link must exist in the package as published (files: dist, README, …)
for (const t of links(readme)) {
  if (t.startsWith('docs/') || t.startsWith('./docs/')) continue;
  if (!existsSync(path.join(pkgDir, t))) problems.push(`README.md links to ${t}, which is not in the package`);
}
if (check) rmSync(out, { recursive: true, force: true });
const name = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).name;
if (problems.length > 0) {
  console.error(`${name}: ${problems.join('; ')}`);
  process.exitCode = 1;
} else {
  console.log(`${name}: ${done.size} doc file(s) ${check ? 'resolve' : `copied to ${path.relative(root, out)}`}`);
}
