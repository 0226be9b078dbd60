import { defineConfig } from 'vitest/config';
import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(fileURLToPath(import.meta.url));

// Tests run against the TypeScript sources of every workspace package (no build
// step needed): `@chainz/<pkg>` and `@chainz/<pkg>/<sub>` resolve to `src/`.
const alias = readdirSync(path.join(root, 'packages'))
  .filter((d) => existsSync(path.join(root, 'packages', d, 'src', 'index.ts')))
  .flatMap((d) => [
    { find: new RegExp(`^@chainz/${d}$`), replacement: path.join(root, 'packages', d, 'src', 'index.ts') },
    { find: new RegExp(`^@chainz/${d}/(.+)$`), replacement: path.join(root, 'packages', d, 'src', '$1') },
  ]);

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: ['**/*.webgpu.test.ts', '**/*.browser.test.ts', '**/node_modules/**'],
          setupFiles: [path.join(root, 'scripts/vitest.setup.ts')],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        // WebGPU in Node (Dawn on Mesa llvmpipe, ~0.8 GFLOP/s): keep shapes small.
        // CHAINZ_SKIP_WEBGPU=1 skips these suites outside CI (see scripts/vitest.webgpu.setup.ts).
        resolve: { alias },
        test: {
          name: 'webgpu',
          include: ['packages/*/src/**/*.webgpu.test.ts'],
          exclude: ['**/node_modules/**'],
          setupFiles: [path.join(root, 'scripts/vitest.webgpu.setup.ts')],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
    ],
  },
});
