import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/worker.ts', 'src/experiments/cifar10c.generate.worker.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // keep the `node:` prefix of Node built-ins (tsup strips it by default): without it a
  // bundler cannot tell `fs` from an npm package of that name
  removeNodeProtocol: false,
});
