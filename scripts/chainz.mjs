#!/usr/bin/env node
// `pnpm chainz <args>` (or `node scripts/chainz.mjs <args>`): build what the CLI
// needs (turbo, cached; its output is shown only if the build fails), then run
// the built CLI with the caller's arguments. pnpm sets INIT_CWD to the directory
// the user ran the command from; the CLI writes results there.
//
// pnpm: the one running this script (npm_execpath), else the version pinned in
// package.json through npx (Node's own), so no global pnpm is needed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cliPath = path.join(root, 'packages/bench/dist/cli.js');
if (!existsSync(cliPath)) process.stderr.write('chainz: building the packages (first run only, about a minute)…\n');
const turboArgs = ['exec', 'turbo', 'run', 'build', '--filter=@chainz/bench...', '--output-logs=errors-only', '--log-prefix=none'];
const execPath = process.env.npm_execpath;
const viaRunningPnpm = execPath && /pnpm/.test(path.basename(execPath));
const pinned = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).packageManager; // e.g. pnpm@10.34.9
const [cmd, args] = viaRunningPnpm
  ? [process.execPath, [execPath, ...turboArgs]]
  : [process.platform === 'win32' ? 'npx.cmd' : 'npx', ['-y', pinned, ...turboArgs]];
const turbo = spawnSync(cmd, args, {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
  env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env },
});
if (turbo.status !== 0) {
  process.stderr.write(`${turbo.stdout ?? ''}${turbo.stderr ?? ''}${turbo.error ? `${turbo.error.message}\n` : ''}`);
  process.stderr.write('chainz: building the CLI failed (see the messages above).\n');
  process.exit(turbo.status ?? 1);
}
const cli = spawnSync(process.execPath, [cliPath, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { INIT_CWD: process.cwd(), ...process.env },
});
process.exit(cli.status ?? (cli.signal ? 1 : 0));
