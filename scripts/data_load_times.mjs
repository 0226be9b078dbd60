#!/usr/bin/env node
// Load time of every tabular built-in adapter (the ten UCI sets and pima):
// median of 3 loads each, from read to LoadedDataset (parse, checks, tensor),
// as wall time and as this process's CPU time (less sensitive to a busy machine).
// Needs a build (`pnpm build`) and CHAINZ_DATA_DIR pointing at the data folder.
//   CHAINZ_DATA_DIR=../shared/data node scripts/data_load_times.mjs
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { listAdapters, registerBuiltinAdapters } from '../packages/data/dist/index.js';

await tf.setBackend('cpu');
registerBuiltinAdapters();
if (!process.env.CHAINZ_DATA_DIR) {
  console.error('set CHAINZ_DATA_DIR to the folder holding uci/ (e.g. ../shared/data)');
  process.exit(2);
}
console.log('dataset        rows × features   wall (s)   cpu (s)   (median of 3)');
for (const a of listAdapters({ modality: 'tabular' })) {
  if (a.name === 'csv') continue;
  const wall = [];
  const cpu = [];
  let shape;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const ds = await a.load();
    const c = process.cpuUsage(c0);
    wall.push((performance.now() - t0) / 1000);
    cpu.push((c.user + c.system) / 1e6);
    shape = ds.splits.all.features.shape;
    ds.dispose();
  }
  const median = (v) => [...v].sort((x, y) => x - y)[1];
  console.log(`${a.name.padEnd(14)} ${`${shape[0]} × ${shape[1]}`.padEnd(17)} ${median(wall).toFixed(3).padStart(8)} ${median(cpu).toFixed(3).padStart(9)}`);
}
