// Worker-thread entry of loadCifarCorruptionData: generates one corrupted set with
// @chainz/data's `corrupt()` (CPU-bound JavaScript), so several sets are made at once.
import { corrupt } from '../corruptions/corrupt';
import type { CorruptionName, Severity } from '../corruptions/params';

/** One set to generate; `images` may live in a SharedArrayBuffer (shared, not copied). */
export interface GenerateTask {
  images: Uint8Array;
  n: number;
  corruption: CorruptionName;
  severity: Severity;
  seed: number;
  frostDir?: string;
}

/** @returns the corrupted images `[n, 32, 32, 3]` uint8 (same bytes as in the main thread: `corrupt` is seeded). */
export default function generate(task: GenerateTask): Promise<Uint8Array> {
  return corrupt(task.images, task.n, task.corruption, task.severity, { seed: task.seed, frostDir: task.frostDir });
}
