#!/usr/bin/env node
// Fuzz every file parser with many more cases than the unit tests run:
//   node scripts/fuzz-parsers.mjs [runs] [seed]
// (default 3000 cases per parser, a random seed that is printed so a failure
// can be replayed with the same seed). Runs packages/data/src/parsers.fuzz.test.ts
// with CHAINZ_FUZZ_RUNS / CHAINZ_FUZZ_SEED and prints the outcome counts per
// parser (how many cases parsed, how many were refused with which error code).
// Exit status: vitest's (non-zero when a parser threw anything but a ChainzError
// or aborted).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 3000);
const seed = Number(process.argv[3] ?? Math.floor(Math.random() * 2 ** 31));
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  process.stderr.write('usage: node scripts/fuzz-parsers.mjs [runs ≥ 1] [integer seed]\n');
  process.exit(2);
}
process.stdout.write(`fuzzing the parsers: ${runs} cases each, seed ${seed}\n`);
const r = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'unit', 'packages/data/src/parsers.fuzz.test.ts'],
  { cwd: root, stdio: 'inherit', env: { ...process.env, CHAINZ_FUZZ_RUNS: String(runs), CHAINZ_FUZZ_SEED: String(seed), CHAINZ_FUZZ_STATS: '1' } },
);
if (r.status !== 0) process.stdout.write(`replay with: node scripts/fuzz-parsers.mjs ${runs} ${seed}\n`);
process.exit(r.status ?? 1);
