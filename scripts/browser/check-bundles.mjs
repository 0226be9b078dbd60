#!/usr/bin/env node
// Browser bundle check: bundles every public entry of the browser-safe
// packages FROM THEIR BUILT dist/ (as an application's bundler would, through
// package.json "exports" with the `browser` condition) with esbuild
// `--platform=browser`, tfjs as the only external, and fails when
//   - the bundle reaches a Node built-in (`fs`, `node:path`, …), or any other
//     import cannot be resolved for a browser;
//   - an entry's minified + gzipped size exceeds its budget;
//   - a package exports an entry that the budgets file does not list (as a
//     browser entry with a budget, or as Node-only with a reason).
// Entries, budgets and externals: scripts/browser/bundle-budgets.json.
// Needs `pnpm build` first. Ends with `[bundles] P of N checks passed`.
//
//   node scripts/browser/check-bundles.mjs [--report <file.json>] [--json]
//
// --report writes { passed, failed, results, sizes } (read by .ci/run);
// --json prints the sizes as JSON instead of the table.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
};
const reportFile = opt('--report');
const budgetsFile = opt('--budgets') ?? path.join(here, 'bundle-budgets.json');
const config = JSON.parse(readFileSync(budgetsFile, 'utf8'));

const builtins = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0]]));
const isBuiltinName = (p) => p.startsWith('node:') || builtins.has(p) || builtins.has(p.split('/')[0]);

/**
 * esbuild plugin: a Node built-in is recorded and left external, so that one
 * run lists all of them (esbuild would stop at "Could not resolve"). A bare
 * name that only looks like a built-in (`buffer`, `process`, `events` …) but
 * resolves to an installed npm package is bundled as usual.
 */
function nodeBuiltinGuard(found) {
  return {
    name: 'node-builtin-guard',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (a) => {
        if (a.pluginData?.guard || !isBuiltinName(a.path)) return undefined;
        if (!a.path.startsWith('node:')) {
          const r = await b.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir, importer: a.importer, pluginData: { guard: true } });
          if (r.errors.length === 0 && r.path && !r.external) return r;
        }
        found.push({ module: a.path, importer: path.relative(root, a.importer) || a.importer });
        return { path: a.path, external: true };
      });
    },
  };
}

/** Bundles `specifier` (all of its exports) for the browser; returns sizes, the Node built-ins it reached and esbuild's errors. */
async function bundleEntry(specifier, pkgDir) {
  const found = [];
  let result;
  const errors = [];
  try {
    result = await build({
      stdin: { contents: `export * from '${specifier}';\n`, resolveDir: pkgDir, sourcefile: 'entry.js', loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
      external: config.external,
      plugins: [nodeBuiltinGuard(found)],
    });
  } catch (e) {
    for (const m of e.errors ?? [{ text: String(e?.message ?? e) }]) {
      errors.push(`${m.text}${m.location ? ` (${path.relative(root, path.resolve(pkgDir, m.location.file))}:${m.location.line})` : ''}`);
    }
  }
  if (!result) return { found, errors };
  const code = result.outputFiles[0].contents;
  const inputs = Object.keys(result.metafile.inputs).map((f) => path.relative(root, path.resolve(pkgDir, f)));
  return { found, errors, minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, inputs };
}

const results = [];
const sizes = [];
const check = (name, ok, detail) => results.push({ name, ok, detail });
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

for (const pkg of config.packages) {
  const pkgDir = path.join(root, 'packages', pkg);
  const manifest = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const subpaths = Object.keys(manifest.exports ?? { '.': manifest.main }).filter((s) => !s.endsWith('package.json'));
  for (const sub of subpaths) {
    const specifier = sub === '.' ? manifest.name : `${manifest.name}/${sub.replace(/^\.\//, '')}`;
    if (config.nodeOnly[specifier] !== undefined) continue;
    const budget = config.entries[specifier];
    if (budget === undefined) {
      check(`${specifier}: listed in bundle-budgets.json`, false, `new export: add it to scripts/browser/bundle-budgets.json under "entries" (browser-safe, with a gzip budget) or "nodeOnly" (with the reason)`);
      continue;
    }
    if (!existsSync(path.join(pkgDir, 'dist'))) {
      check(`${specifier}: bundles for the browser`, false, `packages/${pkg}/dist is missing: run pnpm build first`);
      continue;
    }
    const r = await bundleEntry(specifier, pkgDir);
    const builtinsDetail = r.found.map((f) => `${f.module} (imported by ${f.importer})`).join('; ');
    check(
      `${specifier}: bundles for the browser with no Node built-in`,
      r.found.length === 0 && r.errors.length === 0,
      [r.found.length ? `Node built-ins: ${builtinsDetail}` : '', r.errors.length ? `errors: ${r.errors.join(' | ')}` : ''].filter(Boolean).join('; ') || `${r.inputs.length} modules`,
    );
    if (r.gzipBytes === undefined) continue;
    sizes.push({ entry: specifier, minBytes: r.minBytes, gzipBytes: r.gzipBytes, budgetBytes: budget.gzipBytes });
    check(`${specifier}: min+gzip ≤ budget`, r.gzipBytes <= budget.gzipBytes, `${kb(r.gzipBytes)} of ${kb(budget.gzipBytes)} (minified ${kb(r.minBytes)})`);
  }
}
for (const spec of Object.keys(config.entries)) {
  if (!sizes.some((s) => s.entry === spec) && !results.some((r) => r.name.startsWith(`${spec}:`))) {
    check(`${spec}: exported by its package`, false, 'listed in bundle-budgets.json but not in any package.json "exports"');
  }
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
for (const r of results) console.log(`${r.ok ? '✓' : '✗'} [bundles] ${r.name}${r.detail ? ` — ${r.detail}` : ''}`);
if (args.includes('--json')) console.log(JSON.stringify(sizes, null, 2));
else if (sizes.length > 0) {
  console.log('\n| entry (esbuild --platform=browser, tfjs external) | minified | min+gzip | budget |\n|---|---:|---:|---:|');
  for (const s of sizes) console.log(`| ${s.entry} | ${kb(s.minBytes)} | ${kb(s.gzipBytes)} | ${kb(s.budgetBytes)} |`);
  console.log('');
}
if (reportFile) writeFileSync(reportFile, JSON.stringify({ passed, failed, results, sizes }, null, 2));
console.log(`[bundles] ${passed} of ${results.length} checks passed${failed > 0 ? `, ${failed} FAILED` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
