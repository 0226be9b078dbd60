import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

/**
 * Seeded pseudo-random generator used for every shuffle, fold split,
 * initialiser seed and random tangent in ChainzRule-TS (tfjs's own
 * `model.fit({shuffle})` uses `Math.random` and is never used).
 *
 * Backed by pure-rand's xoroshiro128+; same seed ⇒ same sequence on every
 * platform.
 */
export class Rng {
  private gen: ReturnType<typeof xoroshiro128plus>;
  private spare: number | undefined;

  /** @param seed any integer (only the low 32 bits are used). */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng: seed must be a finite number, got ${seed}`);
    this.gen = xoroshiro128plus(seed | 0);
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return uniformInt(this.gen, 0, 0xffffffff) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new RangeError(`Rng.int: n must be >= 1, got ${n}`);
    return uniformInt(this.gen, 0, n - 1);
  }

  /** Standard normal sample (Box–Muller, cached pair). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher–Yates shuffle; returns the same array. */
  shuffle<T>(arr: T[] | Int32Array | Uint32Array): typeof arr {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }

  /** A fresh 31-bit seed for a child generator or a tfjs initialiser. */
  seed(): number {
    return this.int(0x7fffffff);
  }
}
