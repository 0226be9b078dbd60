import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // keep the `node:` prefix of Node built-ins (tsup strips it by default): without it a
  // bundler cannot tell `fs` from an npm package of that name
  removeNodeProtocol: false,
});
