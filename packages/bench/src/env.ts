import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { RunSession } from './results';

/** The environment a result was measured in, stored in every results.json. */
export interface EnvironmentInfo {
  backend: string;
  /** Why other backends were not used (from backend resolution). */
  backendNotes?: string[];
  node: string;
  tfjs: string;
  packages: Record<string, string>;
  gitCommit: string | null;
  cpus: number;
  cpuModel: string;
  platform: string;
  /** Units run at once in the latest session (worker threads, or 1 in this thread); results do not depend on it (every unit has its own seed). */
  workers?: number;
  /** Wall time of the whole run, seconds (results.json: the total over `sessions`). */
  wallSeconds?: number;
  /** results.json only: each command that computed units of the run (written by ResultsDir). */
  sessions?: RunSession[];
}

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function gitCommit(): string | null {
  try {
    const here = path.dirname(fileURLToPath(import.meta.url));
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: here, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}

/** Collect versions, CPU and git facts for a results file. */
export function collectEnvironment(backend: string, backendNotes?: string[]): EnvironmentInfo {
  const packages: Record<string, string> = {};
  for (const p of ['@chainz/bench', '@chainz/core', '@chainz/poly-layer', '@chainz/dreg', '@chainz/metrics', '@chainz/data', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', 'libsvm-js', 'ml-xgboost']) {
    packages[p] = versionOf(p);
  }
  const cpus = os.cpus();
  return {
    backend,
    backendNotes,
    node: process.version,
    tfjs: packages['@tensorflow/tfjs-core'],
    packages,
    gitCommit: gitCommit(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    platform: `${process.platform}-${process.arch}`,
  };
}
