import { defineConfig } from 'tsup';

export default defineConfig({
  // worker.js: the worker-thread entry of the runner (runner/executor.ts finds it next to its chunk);
  // resolve-hook.js: lets plugins use the CLI's @chainz/* and @tensorflow/* copies (runner/plugins.ts).
  entry: { index: 'src/index.ts', cli: 'src/cli.ts', worker: 'src/runner/worker.ts', 'resolve-hook': 'src/runner/resolve-hook.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // keep the `node:` prefix of Node built-ins (tsup strips it by default): without it a
  // bundler cannot tell `fs` from an npm package of that name
  removeNodeProtocol: false,
});
