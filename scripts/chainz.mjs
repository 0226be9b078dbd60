#!/usr/bin/env node
// `pnpm chainz <args>`: build what the CLI needs (quietly, logs to stderr),
// then run the built CLI with the caller's arguments. pnpm sets INIT_CWD to the
// directory the user ran the command from; the CLI writes results there.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const turbo = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'build', '--filter=@chainz/bench...', '--output-logs=errors-only', '--log-prefix=none'],
  { cwd: root, stdio: ['ignore', process.stderr, process.stderr], env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env } },
);
if (turbo.status !== 0) {
  process.stderr.write('chainz: building the CLI failed (see the messages above).\n');
  process.exit(turbo.status ?? 1);
}
const cli = spawnSync(process.execPath, [path.join(root, 'packages/bench/dist/cli.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { INIT_CWD: process.cwd(), ...process.env },
});
process.exit(cli.status ?? (cli.signal ? 1 : 0));
