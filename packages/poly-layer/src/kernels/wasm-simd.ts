import { wasmAsm } from '@chainz/core';
import type { KernelGuard } from './names';

const { Code, encodeModule, I32, F32, V128, simdInstanceCache } = wasmAsm;
type Code = InstanceType<typeof wasmAsm.Code>;
type FnDef = wasmAsm.FnDef;

/*
 * WebAssembly SIMD loops for the common case on the wasm backend — a cubic (any
 * degree ≤ 3) in the monomial basis — running directly on tfjs's wasm heap
 * (the module imports the backend's WebAssembly.Memory), four channels per
 * instruction in float32 (f32x4); a row's last C mod 4 channels go through the
 * same code one lane at a time. Same formulas as the typed-array loops of
 * js-math.ts (which compute in float64): the two agree to float32 rounding.
 * Per-channel sums over rows (the coefficient gradients, DREG's s_j) are
 * float32 sums in row order, as tfjs's own reductions.
 *
 * The module is generated at run time by `@chainz/core`'s wasm writer and
 * compiled once per memory. When anything is missing (no `asm.memory` on the
 * backend, a shared memory of the threaded build, no SIMD), the kernels fall
 * back to js-math.ts.
 *
 * tanh guard: the continued-fraction rational of js-math.ts for |z/s| ≤ 2; for
 * vectors with a lane beyond, tanh|x| = (1 − e)/(1 + e), sech² = 4e/(1 + e)²
 * with e = exp(−2|x|) from a vectorised exp (2^k·2^f, f ∈ [−½, ½], degree-7
 * Taylor polynomial of 2^f: relative error < 1e-8), selected per lane.
 */

const N0 = 34459425;
const N1 = 4729725;
const N2 = 135135;
const N3 = 990;
const D1 = 16216200;
const D2 = 945945;
const D3 = 13860;
const D4 = 45;
const LOG2E = Math.LOG2E;
const LN2 = Math.LN2;

const GUARDS: readonly KernelGuard[] = ['tanh', 'clip', 'none'];

/** Flags of the forward function. */
export const FWD_SAVE = 1;
export const FWD_SECOND = 2;
export const FWD_JAC = 4;
export const FWD_DY = 8;
/** Flags of the backward function. */
export const BWD_SAVED = 1;
export const BWD_GDY = 2;
export const BWD_JAC = 4;

/** Lanes per step: 4 (a full vector) or 1 (lane 0 of a vector whose other lanes are zero). */
type Width = 4 | 1;

/** Pushes the float32 vector (width w) at address `base` (a local) + byte offset `off` (a local). */
function load(c: Code, w: Width, base: number, off: number): Code {
  c.get(base).get(off).i32Add();
  return w === 4 ? c.v128Load(0) : c.v128Load32Zero(0);
}

/** Stores the vector computed by `val` (width w) at address `base` + `off`. */
function store(c: Code, w: Width, base: number, off: number, val: () => void): void {
  c.get(base).get(off).i32Add();
  val();
  if (w === 4) c.v128Store(0);
  else c.v128Store32Lane(0, 0);
}

/** acc[base + off] += value (width w; with w = 1 only lane 0 is read and written). */
function accumulate(c: Code, w: Width, base: number, off: number, value: () => void): void {
  store(c, w, base, off, () => {
    load(c, w, base, off);
    value();
    c.f32x4Add();
  });
}

interface GuardLocals {
  zz: number;
  invv: number;
  uu: number;
  g1v: number;
  x: number;
  s2: number;
  y2: number;
  e: number;
  t: number;
  k: number;
}

function guardLocals(c: Code, invv: number): GuardLocals {
  return { zz: c.local(V128), invv, uu: c.local(V128), g1v: c.local(V128), x: c.local(V128), s2: c.local(V128), y2: c.local(V128), e: c.local(V128), t: c.local(V128), k: c.local(V128) };
}

/** Emits e ← exp(e) for e ≤ 0 (clamped below at −87: the result stays a normal float32). */
function emitExpNonPositive(c: Code, L: GuardLocals): void {
  // t = e·log2(e) = k + f, k = nearest(t), f ∈ [−½, ½];  exp = 2^k · 2^f
  c.get(L.e).f32x4Const(-87).f32x4Max().f32x4Const(LOG2E).f32x4Mul().set(L.t);
  c.get(L.t).f32x4Nearest().set(L.k); // k (as float)
  c.get(L.t).get(L.k).f32x4Sub().f32x4Const(LN2).f32x4Mul().set(L.t); // f·ln2
  // 2^f = Σ_{m ≤ 7} (f·ln2)^m / m!  (Horner)
  c.f32x4Const(1 / 5040);
  for (const inv of [1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1]) c.get(L.t).f32x4Mul().f32x4Const(inv).f32x4Add();
  // · 2^k: add k to the exponent bits
  c.get(L.k).i32x4TruncSatF32x4S().i32(23).i32x4Shl().i32x4Add().set(L.e);
}

/** Emits: uu, g1v ← guard(zz) (tanh: the rational on |x| ≤ 2, the exp form on vectors with a lane beyond). */
function emitGuard(c: Code, guard: KernelGuard, L: GuardLocals): void {
  if (guard === 'none') {
    c.get(L.zz).set(L.uu);
    c.f32x4Const(1).set(L.g1v);
    return;
  }
  c.get(L.zz).get(L.invv).f32x4Mul().set(L.x);
  if (guard === 'clip') {
    c.get(L.x).f32x4Const(-1).f32x4Max().f32x4Const(1).f32x4Min().set(L.uu);
    // g' = 1/s on |x| ≤ 1 (inclusive), 0 outside
    c.get(L.invv).f32x4Const(0).get(L.x).f32x4Abs().f32x4Const(1).f32x4Le().v128Bitselect().set(L.g1v);
    return;
  }
  // tanh: u = x·N(x²)/D(x²), s2 = (1 − u)(1 + u)
  c.get(L.x).get(L.x).f32x4Mul().set(L.y2);
  c.get(L.x);
  c.f32x4Const(N0).get(L.y2).f32x4Const(N1).get(L.y2).f32x4Const(N2).get(L.y2).f32x4Const(N3).get(L.y2).f32x4Add().f32x4Mul().f32x4Add().f32x4Mul().f32x4Add().f32x4Mul().f32x4Add();
  c.f32x4Mul();
  c.f32x4Const(N0).get(L.y2).f32x4Const(D1).get(L.y2).f32x4Const(D2).get(L.y2).f32x4Const(D3).get(L.y2).f32x4Const(D4).f32x4Mul().f32x4Add().f32x4Mul().f32x4Add().f32x4Mul().f32x4Add().f32x4Mul().f32x4Add();
  c.f32x4Div().set(L.uu);
  c.f32x4Const(1).get(L.uu).f32x4Sub().f32x4Const(1).get(L.uu).f32x4Add().f32x4Mul().set(L.s2);
  // lanes with |x| > 2 (NaN compares false and stays NaN)
  c.get(L.x).f32x4Abs().f32x4Const(2).f32x4Gt().set(L.y2);
  c.get(L.y2).v128AnyTrue().if_();
  {
    c.get(L.x).f32x4Abs().f32x4Const(-2).f32x4Mul().set(L.e);
    emitExpNonPositive(c, L); // e = exp(−2|x|)
    c.f32x4Const(1).f32x4Const(1).get(L.e).f32x4Add().f32x4Div().set(L.t); // d = 1/(1 + e)
    // tanh = sign(x)·(1 − e)·d: the sign bit of x (mask −0: the sign bit), the rest from (1 − e)·d ≥ 0
    c.f32x4Const(1).get(L.e).f32x4Sub().get(L.t).f32x4Mul().set(L.k);
    c.get(L.x).get(L.k).f32x4Const(-0).v128Bitselect();
    c.get(L.uu).get(L.y2).v128Bitselect().set(L.uu);
    c.f32x4Const(4).get(L.e).f32x4Mul().get(L.t).f32x4Mul().get(L.t).f32x4Mul();
    c.get(L.s2).get(L.y2).v128Bitselect().set(L.s2);
  }
  c.end();
  c.get(L.s2).get(L.invv).f32x4Mul().set(L.g1v);
}

/**
 * fwd_<guard>(z, y, dy, u, g1, d2y, r, coef, c, n, C, flags, inv): the forward
 * pass over n rows × C channels. coef: float32 columns of C4 = ⌈C/4⌉·4 values
 * (zero-padded): a0, a1, a2, a3, 2a2, 3a3, 6a3. c: ‖W[:, j]‖² (FWD_JAC),
 * zero-padded. Outputs float32: y; dy (FWD_DY); u, g1 (FWD_SAVE); d2y
 * (FWD_SECOND); r [n] = Σ_j dy²·c_j (FWD_JAC).
 */
function fwdFn(guard: KernelGuard): FnDef {
  const P = { z: 0, y: 1, dy: 2, u: 3, g1: 4, d2y: 5, r: 6, coef: 7, c: 8, n: 9, C: 10, flags: 11, inv: 12 };
  const c = new Code(13);
  const b = c.local(I32);
  const j = c.local(I32);
  const e = c.local(I32);
  const j4 = c.local(I32);
  const C4b = c.local(I32);
  const Cfull = c.local(I32);
  const pa = [0, 1, 2, 3, 4, 5, 6].map(() => c.local(I32)); // a0, a1, a2, a3, 2a2, 3a3, 6a3
  const invv = c.local(V128);
  const L = guardLocals(c, invv);
  const p1 = c.local(V128);
  const s1 = c.local(V128);
  const acc = c.local(V128);
  // column stride: C4 floats
  c.get(P.C).i32(3).i32Add().i32(-4).i32And().i32(4).i32Mul().set(C4b);
  c.get(P.C).i32(-4).i32And().set(Cfull);
  pa.forEach((l, k) => c.get(P.coef).get(C4b).i32(k).i32Mul().i32Add().set(l));
  c.get(P.inv).f32x4Splat().set(invv);
  const body = (w: Width) => {
    load(c, w, P.z, e).set(L.zz);
    emitGuard(c, guard, L);
    // p1 = (3a3·u + 2a2)·u + a1;  y = ((a3·u + a2)·u + a1)·u + a0;  s1 = p1·g1
    load(c, w, pa[5], j4).get(L.uu).f32x4Mul();
    load(c, w, pa[4], j4).f32x4Add().get(L.uu).f32x4Mul();
    load(c, w, pa[1], j4).f32x4Add().set(p1);
    c.get(p1).get(L.g1v).f32x4Mul().set(s1);
    store(c, w, P.y, e, () => {
      load(c, w, pa[3], j4).get(L.uu).f32x4Mul();
      load(c, w, pa[2], j4).f32x4Add().get(L.uu).f32x4Mul();
      load(c, w, pa[1], j4).f32x4Add().get(L.uu).f32x4Mul();
      load(c, w, pa[0], j4).f32x4Add();
    });
    c.get(P.flags).i32(FWD_DY).i32And().if_();
    store(c, w, P.dy, e, () => c.get(s1));
    c.end();
    c.get(P.flags).i32(FWD_SAVE).i32And().if_();
    store(c, w, P.u, e, () => c.get(L.uu));
    store(c, w, P.g1, e, () => c.get(L.g1v));
    c.end();
    c.get(P.flags).i32(FWD_SECOND).i32And().if_();
    // σ'' = (6a3·u + 2a2)·g1² + p1·g2, g2 = −2u·g1/s (tanh), 0 otherwise
    store(c, w, P.d2y, e, () => {
      load(c, w, pa[6], j4).get(L.uu).f32x4Mul();
      load(c, w, pa[4], j4).f32x4Add().get(L.g1v).f32x4Mul().get(L.g1v).f32x4Mul();
      if (guard === 'tanh') c.get(p1).f32x4Const(-2).get(L.uu).f32x4Mul().get(L.g1v).f32x4Mul().get(invv).f32x4Mul().f32x4Mul().f32x4Add();
    });
    c.end();
    c.get(P.flags).i32(FWD_JAC).i32And().if_();
    c.get(acc).get(s1).get(s1).f32x4Mul();
    load(c, w, P.c, j4).f32x4Mul().f32x4Add().set(acc);
    c.end();
    c.get(e).i32(4 * w).i32Add().set(e);
    c.get(j4).i32(4 * w).i32Add().set(j4);
    c.get(j).i32(w).i32Add().set(j);
  };
  c.i32(0).set(b);
  c.i32(0).set(e);
  c.block().loop();
  {
    c.get(b).get(P.n).i32GeS().brIf(1);
    c.f32x4Const(0).set(acc);
    c.i32(0).set(j);
    c.i32(0).set(j4);
    c.block().loop();
    c.get(j).get(Cfull).i32GeS().brIf(1);
    body(4);
    c.br(0);
    c.end().end();
    c.block().loop();
    c.get(j).get(P.C).i32GeS().brIf(1);
    body(1);
    c.br(0);
    c.end().end();
    c.get(P.flags).i32(FWD_JAC).i32And().if_();
    c.get(P.r).get(b).i32(4).i32Mul().i32Add();
    c.get(acc).f32x4ExtractLane(0).get(acc).f32x4ExtractLane(1).f32Add().get(acc).f32x4ExtractLane(2).f32Add().get(acc).f32x4ExtractLane(3).f32Add();
    c.f32Store(0);
    c.end();
    c.get(b).i32(1).i32Add().set(b);
    c.br(0);
  }
  c.end().end();
  return { name: `fwd_${guard}`, params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32], results: [], code: c };
}

/**
 * bwd_<guard>(z, u, g1, gy, gdy, gz, coef, G, gr, c2, n, C, flags, inv): the
 * backward pass. coef: float32 columns (stride C4) a1, 2a2, 3a3, 6a3. G:
 * float32 accumulators (stride C4, zeroed by the caller) Σgy, Σ(gy·u + ĝ·g1),
 * Σ(gy·u² + 2ĝ·g1·u), Σ(gy·u³ + 3ĝ·g1·u²) and s_j = Σ_b gr_b·σ'² (BWD_JAC), with
 * ĝ = gdy (BWD_GDY) + 2·gr_b·c_j·σ' (BWD_JAC; c2 = 2c_j). u, g1 saved
 * (BWD_SAVED) or recomputed from z. Writes gz.
 */
function bwdFn(guard: KernelGuard): FnDef {
  const P = { z: 0, u: 1, g1: 2, gy: 3, gdy: 4, gz: 5, coef: 6, G: 7, gr: 8, c2: 9, n: 10, C: 11, flags: 12, inv: 13 };
  const c = new Code(14);
  const b = c.local(I32);
  const j = c.local(I32);
  const e = c.local(I32);
  const j4 = c.local(I32);
  const C4b = c.local(I32);
  const Cfull = c.local(I32);
  const pa = [0, 1, 2, 3].map(() => c.local(I32)); // a1, 2a2, 3a3, 6a3
  const pg = [0, 1, 2, 3, 4].map(() => c.local(I32)); // G0..G3, S
  const invv = c.local(V128);
  const L = guardLocals(c, invv);
  const ev = c.local(V128);
  const p1 = c.local(V128);
  const dv = c.local(V128);
  const f = c.local(V128);
  const fg = c.local(V128);
  const eu = c.local(V128);
  const eu2 = c.local(V128);
  const gbv = c.local(V128);
  const gdv = c.local(V128);
  c.get(P.C).i32(3).i32Add().i32(-4).i32And().i32(4).i32Mul().set(C4b);
  c.get(P.C).i32(-4).i32And().set(Cfull);
  pa.forEach((l, k) => c.get(P.coef).get(C4b).i32(k).i32Mul().i32Add().set(l));
  pg.forEach((l, k) => c.get(P.G).get(C4b).i32(k).i32Mul().i32Add().set(l));
  c.get(P.inv).f32x4Splat().set(invv);
  const body = (w: Width) => {
    c.get(P.flags).i32(BWD_SAVED).i32And().if_();
    load(c, w, P.u, e).set(L.uu);
    load(c, w, P.g1, e).set(L.g1v);
    c.else_();
    load(c, w, P.z, e).set(L.zz);
    emitGuard(c, guard, L);
    c.end();
    load(c, w, P.gy, e).set(ev);
    load(c, w, pa[2], j4).get(L.uu).f32x4Mul();
    load(c, w, pa[1], j4).f32x4Add().get(L.uu).f32x4Mul();
    load(c, w, pa[0], j4).f32x4Add().set(p1);
    c.get(p1).get(L.g1v).f32x4Mul().set(dv);
    accumulate(c, w, pg[0], j4, () => c.get(ev));
    c.get(ev).get(L.uu).f32x4Mul().set(eu);
    c.get(eu).get(L.uu).f32x4Mul().set(eu2);
    c.get(P.flags).i32(BWD_GDY | BWD_JAC).i32And().i32Eqz().if_();
    {
      store(c, w, P.gz, e, () => c.get(ev).get(dv).f32x4Mul());
      accumulate(c, w, pg[1], j4, () => c.get(eu));
      accumulate(c, w, pg[2], j4, () => c.get(eu2));
      accumulate(c, w, pg[3], j4, () => c.get(eu2).get(L.uu).f32x4Mul());
    }
    c.else_();
    {
      c.f32x4Const(0).set(f);
      c.get(P.flags).i32(BWD_GDY).i32And().if_();
      load(c, w, P.gdy, e).set(f);
      c.end();
      c.get(P.flags).i32(BWD_JAC).i32And().if_();
      c.get(gbv).get(dv).f32x4Mul().set(gdv);
      c.get(f);
      load(c, w, P.c2, j4).get(gdv).f32x4Mul().f32x4Add().set(f);
      accumulate(c, w, pg[4], j4, () => c.get(gdv).get(dv).f32x4Mul());
      c.end();
      // gz = gy·σ' + ĝ·σ'',  σ'' = (6a3·u + 2a2)·g1² + p1·g2
      store(c, w, P.gz, e, () => {
        c.get(ev).get(dv).f32x4Mul();
        c.get(f);
        load(c, w, pa[3], j4).get(L.uu).f32x4Mul();
        load(c, w, pa[1], j4).f32x4Add().get(L.g1v).f32x4Mul().get(L.g1v).f32x4Mul();
        if (guard === 'tanh') c.get(p1).f32x4Const(-2).get(L.uu).f32x4Mul().get(L.g1v).f32x4Mul().get(invv).f32x4Mul().f32x4Mul().f32x4Add();
        c.f32x4Mul().f32x4Add();
      });
      c.get(f).get(L.g1v).f32x4Mul().set(fg);
      accumulate(c, w, pg[1], j4, () => c.get(eu).get(fg).f32x4Add());
      accumulate(c, w, pg[2], j4, () => c.get(eu2).f32x4Const(2).get(fg).f32x4Mul().get(L.uu).f32x4Mul().f32x4Add());
      accumulate(c, w, pg[3], j4, () => c.get(eu2).get(L.uu).f32x4Mul().f32x4Const(3).get(fg).f32x4Mul().get(L.uu).f32x4Mul().get(L.uu).f32x4Mul().f32x4Add());
    }
    c.end();
    c.get(e).i32(4 * w).i32Add().set(e);
    c.get(j4).i32(4 * w).i32Add().set(j4);
    c.get(j).i32(w).i32Add().set(j);
  };
  c.i32(0).set(b);
  c.i32(0).set(e);
  c.block().loop();
  {
    c.get(b).get(P.n).i32GeS().brIf(1);
    c.get(P.flags).i32(BWD_JAC).i32And().if_();
    c.get(P.gr).get(b).i32(4).i32Mul().i32Add().v128Load32Splat(0).set(gbv);
    c.end();
    c.i32(0).set(j);
    c.i32(0).set(j4);
    c.block().loop();
    c.get(j).get(Cfull).i32GeS().brIf(1);
    body(4);
    c.br(0);
    c.end().end();
    c.block().loop();
    c.get(j).get(P.C).i32GeS().brIf(1);
    body(1);
    c.br(0);
    c.end().end();
    c.get(b).i32(1).i32Add().set(b);
    c.br(0);
  }
  c.end().end();
  return { name: `bwd_${guard}`, params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32], results: [], code: c };
}

/**
 * Loops over a dIn × n float32 matrix W (row-major) row by row, four columns at
 * a time (then single columns): `body(w, eW, j4)` with eW the byte offset of
 * W[i, j] and j4 the byte offset of column j in per-column arrays. Row order
 * keeps the accesses contiguous (column strips of a power-of-two-wide W would
 * all fall into a few cache sets).
 */
function rowLoop(c: Code, P: { dIn: number; n: number }, body: (w: Width, eW: number, j4: number) => void): void {
  const i = c.local(I32);
  const j = c.local(I32);
  const eW = c.local(I32);
  const j4 = c.local(I32);
  const nFull = c.local(I32);
  c.get(P.n).i32(-4).i32And().set(nFull);
  c.i32(0).set(i);
  c.i32(0).set(eW);
  c.block().loop();
  {
    c.get(i).get(P.dIn).i32GeS().brIf(1);
    c.i32(0).set(j);
    c.i32(0).set(j4);
    for (const [w, lim] of [
      [4, nFull],
      [1, P.n],
    ] as const) {
      c.block().loop();
      c.get(j).get(lim).i32GeS().brIf(1);
      body(w, eW, j4);
      c.get(eW).i32(4 * w).i32Add().set(eW);
      c.get(j4).i32(4 * w).i32Add().set(j4);
      c.get(j).i32(w).i32Add().set(j);
      c.br(0);
      c.end().end();
    }
    c.get(i).i32(1).i32Add().set(i);
    c.br(0);
  }
  c.end().end();
}

/** Over the n columns of a per-column array: `body(w, j4)`, four at a time then single lanes. */
function columnsOnce(c: Code, n: number, body: (w: Width, j4: number) => void): void {
  const j = c.local(I32);
  const j4 = c.local(I32);
  const nFull = c.local(I32);
  c.get(n).i32(-4).i32And().set(nFull);
  c.i32(0).set(j);
  c.i32(0).set(j4);
  for (const [w, lim] of [
    [4, nFull],
    [1, n],
  ] as const) {
    c.block().loop();
    c.get(j).get(lim).i32GeS().brIf(1);
    body(w, j4);
    c.get(j4).i32(4 * w).i32Add().set(j4);
    c.get(j).i32(w).i32Add().set(j);
    c.br(0);
    c.end().end();
  }
}

/** colnorm(W, c, dIn, n, factor): c_j = factor·Σ_i W_ij² (float32, summed in row order); c must hold ⌈n/4⌉·4 zeros past n. */
function colnormFn(): FnDef {
  const P = { W: 0, c: 1, dIn: 2, n: 3, factor: 4 };
  const c = new Code(5);
  const w = c.local(V128);
  columnsOnce(c, P.n, (wd, j4) => store(c, wd, P.c, j4, () => c.f32x4Const(0)));
  rowLoop(c, P, (wd, eW, j4) => {
    load(c, wd, P.W, eW).set(w);
    accumulate(c, wd, P.c, j4, () => c.get(w).get(w).f32x4Mul());
  });
  columnsOnce(c, P.n, (wd, j4) => store(c, wd, P.c, j4, () => load(c, wd, P.c, j4).get(P.factor).f32x4Splat().f32x4Mul()));
  return { name: 'colnorm', params: [I32, I32, I32, I32, F32], results: [], code: c };
}

/** scalegrad(W, S, gW, dIn, n): gW_ij = W_ij·(2·S_j) (float32). */
function scaleGradFn(): FnDef {
  const P = { W: 0, S: 1, gW: 2, dIn: 3, n: 4 };
  const c = new Code(5);
  rowLoop(c, P, (wd, eW, j4) =>
    store(c, wd, P.gW, eW, () => {
      load(c, wd, P.W, eW);
      c.f32x4Const(2);
      load(c, wd, P.S, j4).f32x4Mul().f32x4Mul();
    }),
  );
  return { name: 'scalegrad', params: [I32, I32, I32, I32, I32], results: [], code: c };
}

/** scalegradadd(W, S, gW, dIn, n): gW_ij ← gW_ij + W_ij·(2·S_j) (float32: the sum tfjs forms of two gradient parts). */
function scaleGradAddFn(): FnDef {
  const P = { W: 0, S: 1, gW: 2, dIn: 3, n: 4 };
  const c = new Code(5);
  rowLoop(c, P, (wd, eW, j4) =>
    accumulate(c, wd, P.gW, eW, () => {
      load(c, wd, P.W, eW);
      c.f32x4Const(2);
      load(c, wd, P.S, j4).f32x4Mul().f32x4Mul();
    }),
  );
  return { name: 'scalegradadd', params: [I32, I32, I32, I32, I32], results: [], code: c };
}

/** addinto(a, b, n): a[i] ← a[i] + b[i] (float32). */
function addIntoFn(): FnDef {
  const P = { a: 0, b: 1, n: 2 };
  const c = new Code(3);
  const e = c.local(I32);
  const end = c.local(I32);
  const end4 = c.local(I32);
  c.get(P.n).i32(4).i32Mul().set(end);
  c.get(P.n).i32(-4).i32And().i32(4).i32Mul().set(end4);
  c.i32(0).set(e);
  for (const [w, lim] of [
    [4, end4],
    [1, end],
  ] as const) {
    c.block().loop();
    c.get(e).get(lim).i32GeS().brIf(1);
    accumulate(c, w, P.a, e, () => load(c, w, P.b, e));
    c.get(e).i32(4 * w).i32Add().set(e);
    c.br(0);
    c.end().end();
  }
  return { name: 'addinto', params: [I32, I32, I32], results: [], code: c };
}

type FwdFn = (z: number, y: number, dy: number, u: number, g1: number, d2y: number, r: number, coef: number, c: number, n: number, C: number, flags: number, inv: number) => void;
type BwdFn = (z: number, u: number, g1: number, gy: number, gdy: number, gz: number, coef: number, G: number, gr: number, c2: number, n: number, C: number, flags: number, inv: number) => void;

/** The compiled loops for one memory. */
export interface SimdLoops {
  fwd: Record<KernelGuard, FwdFn>;
  bwd: Record<KernelGuard, BwdFn>;
  colnorm: (W: number, c: number, dIn: number, n: number, factor: number) => void;
  scalegrad: (W: number, S: number, gW: number, dIn: number, n: number) => void;
  scalegradadd: (W: number, S: number, gW: number, dIn: number, n: number) => void;
  addinto: (a: number, b: number, n: number) => void;
}

let moduleBytes: Uint8Array | undefined;

/** The module's bytes (generated once). */
export function simdModuleBytes(): Uint8Array {
  moduleBytes ??= encodeModule([], [...GUARDS.map(fwdFn), ...GUARDS.map(bwdFn), colnormFn(), scaleGradFn(), scaleGradAddFn(), addIntoFn()]);
  return moduleBytes;
}

const instanceFor = simdInstanceCache(simdModuleBytes, () => ({}));
const wrapped = new WeakMap<WebAssembly.Exports, SimdLoops>();

/**
 * The SIMD loops bound to `memory` (compiled once, instantiated once per
 * memory), or null when WebAssembly SIMD is unavailable or the memory is
 * shared (the threaded build of the wasm backend).
 */
export function simdLoops(memory: unknown): SimdLoops | null {
  const x = instanceFor(memory);
  if (!x) return null;
  let loops = wrapped.get(x);
  if (!loops) {
    loops = {
      fwd: { tanh: x.fwd_tanh as FwdFn, clip: x.fwd_clip as FwdFn, none: x.fwd_none as FwdFn },
      bwd: { tanh: x.bwd_tanh as BwdFn, clip: x.bwd_clip as BwdFn, none: x.bwd_none as BwdFn },
      colnorm: x.colnorm as SimdLoops['colnorm'],
      scalegrad: x.scalegrad as SimdLoops['scalegrad'],
      scalegradadd: x.scalegradadd as SimdLoops['scalegradadd'],
      addinto: x.addinto as SimdLoops['addinto'],
    };
    wrapped.set(x, loops);
  }
  return loops;
}
