import { defineConfig } from 'tsup';

export default defineConfig({
  // register.ts is its own entry so that the only module with side effects (the
  // tfjs class registration) stays a separate file, listed in "sideEffects".
  entry: ['src/index.ts', 'src/register.ts', 'src/testing.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: true,
  // keep `import './register.js'` in index.js instead of inlining the registration call into a shared chunk
  external: ['./register.js'],
  target: 'node20',
  // keep the `node:` prefix of Node built-ins (tsup strips it by default): without it a
  // bundler cannot tell `fs` from an npm package of that name
  removeNodeProtocol: false,
});
