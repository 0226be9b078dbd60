import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Data directory for tests: `CHAINZ_DATA_DIR`, else `<repo root>/../shared/data`
 * (the development/CI layout).
 * @internal test helper
 */
export function testDataDir(): string {
  if (process.env.CHAINZ_DATA_DIR) return path.resolve(process.env.CHAINZ_DATA_DIR);
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
  return path.resolve(repoRoot, '..', 'shared', 'data');
}
