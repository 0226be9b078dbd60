#!/usr/bin/env node
// The `chainz` command: runs the built CLI (dist/cli.js). This file is in the
// repository so that `pnpm install` can link the command before the first build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    'chainz: the CLI is not built yet (no packages/bench/dist/cli.js).\n' +
      'hint: in a checkout of the repository run `npx -y pnpm@10.34.9 chainz <command>` once (it builds first), or `npx -y pnpm@10.34.9 build`\n',
  );
  process.exit(1);
}
await import(cli.href);
