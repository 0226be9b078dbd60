// Test-only helper (not exported from the package): where the shared data lives.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * The data folder for tests: `CHAINZ_DATA_DIR`, else `<repo root>/../shared/data`.
 * Throws (so the test fails, never skips) when the folder or a needed entry is missing.
 */
export function testDataDir(...needed: string[]): string {
  const dir = process.env.CHAINZ_DATA_DIR ? path.resolve(process.env.CHAINZ_DATA_DIR) : path.resolve(repoRoot, '../shared/data');
  for (const rel of ['', ...needed]) {
    const p = path.join(dir, rel);
    if (!existsSync(p)) {
      throw new Error(
        `Test data not found: ${p}. Set CHAINZ_DATA_DIR to the shared data folder (see MANIFEST.md); ` +
          `default is <repo root>/../shared/data.`,
      );
    }
  }
  return dir;
}
