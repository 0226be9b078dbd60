/**
 * Seeded 2-D toy classification sets (spirals, moons, circles, XOR, blobs).
 * Every set lies roughly in [−1.5, 1.5]²; `noise` is the std of Gaussian noise
 * added to each coordinate (in those units). Same seed, same points.
 */
import { ConfigError, Rng } from '@chainz/core';

/** Names of the toy sets. */
export const TOY_SETS = ['spirals', 'moons', 'circles', 'xor', 'blobs'] as const;
export type ToySet = (typeof TOY_SETS)[number];

/** A generated set: row-major `[n, 2]` points and a class index per point. */
export interface ToyData {
  x: Float32Array;
  labels: Int32Array;
  classNames: string[];
}

/**
 * Generates a toy set.
 * @param name which set.
 * @param n number of points (split as evenly as possible over the classes).
 * @param noise std of the Gaussian noise per coordinate, ≥ 0.
 * @param seed seed of the `@chainz/core` Rng.
 * @throws ConfigError for an unknown name, n < number of classes or a negative noise.
 */
export function makeToy(name: ToySet, n: number, noise: number, seed: number): ToyData {
  if (!(TOY_SETS as readonly string[]).includes(name)) throw new ConfigError(`unknown toy set ${JSON.stringify(name)}`, { option: 'dataset' });
  if (!(noise >= 0) || !Number.isFinite(noise)) throw new ConfigError(`must be a finite number ≥ 0, got ${noise}`, { option: 'noise' });
  const classes = name === 'blobs' ? 3 : 2;
  if (!Number.isInteger(n) || n < classes) throw new ConfigError(`must be an integer ≥ ${classes}, got ${n}`, { option: 'points' });
  const rng = new Rng(seed);
  const x = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    const t = rng.next();
    let px: number;
    let py: number;
    switch (name) {
      case 'spirals': {
        // Archimedean spiral arms r = θ/(3π)·1.4, θ ∈ [0.25π, 3π], the second arm rotated by π
        const theta = (0.25 + 2.75 * t) * Math.PI;
        const r = (theta / (3 * Math.PI)) * 1.4;
        const phase = c === 0 ? 0 : Math.PI;
        px = r * Math.cos(theta + phase);
        py = r * Math.sin(theta + phase);
        break;
      }
      case 'moons': {
        const a = Math.PI * t;
        if (c === 0) {
          px = Math.cos(a) - 0.5;
          py = Math.sin(a) - 0.25;
        } else {
          px = 1 - Math.cos(a) - 0.5;
          py = 0.25 - Math.sin(a);
        }
        break;
      }
      case 'circles': {
        const a = 2 * Math.PI * t;
        const r = c === 0 ? 1.2 : 0.5;
        px = r * Math.cos(a);
        py = r * Math.sin(a);
        break;
      }
      case 'xor': {
        px = rng.next() * 2.4 - 1.2;
        py = rng.next() * 2.4 - 1.2;
        labels[i] = px * py > 0 ? 0 : 1;
        break;
      }
      case 'blobs': {
        const a = (2 * Math.PI * c) / 3 + Math.PI / 2;
        px = 0.8 * Math.cos(a) + 0.3 * rng.normal();
        py = 0.8 * Math.sin(a) + 0.3 * rng.normal();
        break;
      }
    }
    if (name !== 'xor') labels[i] = c;
    x[2 * i] = px + noise * rng.normal();
    x[2 * i + 1] = py + noise * rng.normal();
  }
  const classNames = name === 'blobs' ? ['A', 'B', 'C'] : name === 'xor' ? ['same sign', 'opposite sign'] : ['class 0', 'class 1'];
  return { x, labels, classNames };
}
