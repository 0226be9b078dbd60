import { defineConfig } from 'tsup';

export default defineConfig({
  // browser: the browser-safe subset (export condition `browser`, subpath ./browser); testing: the conformance kit
  entry: { index: 'src/index.ts', browser: 'src/browser.ts', 'testing/index': 'src/testing/index.ts', 'cifar10c-generate.worker': 'src/cifar10c/generate.worker.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', browser: 'src/browser.ts', 'testing/index': 'src/testing/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // keep the `node:` prefix of Node built-ins (tsup strips it by default): without it a
  // bundler cannot tell `fs` from an npm package of that name
  removeNodeProtocol: false,
});
