import { Code, encodeModule, F64, I32, V128, type FnDef } from './wasm-asm';
import type { KernelGuard } from './names';

/*
 * WebAssembly SIMD loops for the common case on the wasm backend — a cubic (any
 * degree ≤ 3) in the monomial basis, an even number of channels — running
 * directly on tfjs's wasm heap (the module imports the backend's
 * WebAssembly.Memory), two elements per instruction in float64 (f64x2), so the
 * results equal the typed-array loops of js-math.ts (same formulas, same
 * float64 arithmetic; only the order of the per-channel sums over rows is the
 * same too). JavaScript loops cannot use SIMD, and TurboFan re-checks every
 * typed array after each store: these loops are several times faster.
 *
 * The module is generated at run time by wasm-asm.ts and compiled once per
 * memory. When anything is missing (no `asm.memory` on the backend, a shared
 * memory of the threaded build, no SIMD), the kernels fall back to js-math.ts.
 *
 * tanh guard: the same continued-fraction rational as js-math.ts for |z/s| ≤ 2,
 * and for the lanes beyond, a call to a small function using the imported
 * Math.exp (rare for normalised pre-activations).
 */

const N0 = 34459425;
const N1 = 4729725;
const N2 = 135135;
const N3 = 990;
const D1 = 16216200;
const D2 = 945945;
const D3 = 13860;
const D4 = 45;

const GUARDS: readonly KernelGuard[] = ['tanh', 'clip', 'none'];
const TAIL = 1; // function index of $tail (import exp = 0)

/** Flags of the forward function. */
export const FWD_SAVE = 1;
export const FWD_SECOND = 2;
export const FWD_JAC = 4;
/** Flags of the backward function. */
export const BWD_SAVED = 1;
export const BWD_GDY = 2;
export const BWD_JAC = 4;

function tailFn(): FnDef {
  const c = new Code(1);
  const e = c.local(F64);
  const d = c.local(F64);
  // e = exp(−2|x|), d = 1/(1 + e); u = copysign((1 − e)·d, x), s2 = 4e·d²
  c.get(0).f64Abs().f64(-2).f64Mul().call(0).set(e);
  c.f64(1).f64(1).get(e).f64Add().f64Div().set(d);
  c.f64(1).get(e).f64Sub().get(d).f64Mul().get(0).f64Copysign();
  c.f64(4).get(e).f64Mul().get(d).f64Mul().get(d).f64Mul();
  return { name: 'tail', params: [F64], results: [F64, F64], code: c };
}

/** Emits: uu, g1v ← guard(zz) (and for tanh the lanes with |x| > 2 through $tail). */
function emitGuard(c: Code, guard: KernelGuard, L: { zz: number; invv: number; uu: number; g1v: number; x: number; s2: number; tl: number; ts: number; y2: number }): void {
  if (guard === 'none') {
    c.get(L.zz).set(L.uu);
    c.vConst(1).set(L.g1v);
    return;
  }
  c.get(L.zz).get(L.invv).vMul().set(L.x);
  if (guard === 'clip') {
    c.get(L.x).vConst(-1).vMax().vConst(1).vMin().set(L.uu);
    c.get(L.invv).vConst(0).get(L.x).vAbs().vConst(1).vLe().bitselect().set(L.g1v);
    return;
  }
  // tanh: u = x·N(x²)/D(x²), s2 = (1 − u)(1 + u)
  c.get(L.x).get(L.x).vMul().set(L.y2);
  c.get(L.x)
    .vConst(N0).get(L.y2).vConst(N1).get(L.y2).vConst(N2).get(L.y2).vConst(N3).get(L.y2).vAdd().vMul().vAdd().vMul().vAdd().vMul().vAdd()
    .vMul();
  c.vConst(N0).get(L.y2).vConst(D1).get(L.y2).vConst(D2).get(L.y2).vConst(D3).get(L.y2).vConst(D4).vMul().vAdd().vMul().vAdd().vMul().vAdd().vMul().vAdd();
  c.vDiv().set(L.uu);
  c.vConst(1).get(L.uu).vSub().vConst(1).get(L.uu).vAdd().vMul().set(L.s2);
  c.get(L.x).vAbs().vConst(2).vGt().anyTrue().if_();
  for (const lane of [0, 1]) {
    c.get(L.x).extract(lane).f64Abs().f64(2).f64Gt().if_();
    c.get(L.x).extract(lane).call(TAIL).set(L.ts).set(L.tl);
    c.get(L.uu).get(L.tl).replace(lane).set(L.uu);
    c.get(L.s2).get(L.ts).replace(lane).set(L.s2);
    c.end();
  }
  c.end();
  c.get(L.s2).get(L.invv).vMul().set(L.g1v);
}

function guardLocals(c: Code, invv: number) {
  return {
    zz: c.local(V128),
    invv,
    uu: c.local(V128),
    g1v: c.local(V128),
    x: c.local(V128),
    s2: c.local(V128),
    y2: c.local(V128),
    tl: c.local(F64),
    ts: c.local(F64),
  };
}

/** Pushes the f64x2 at array `ptr` (a local holding a base address) + byte offset local `off`. */
function loadAt(c: Code, ptr: number, off: number): Code {
  return c.get(ptr).get(off).i32Add().v128Load();
}

/**
 * fwd_<guard>(z, y, dy, u, g1, d2y, r, coef, c, n, C, flags, inv): the forward
 * pass over n rows × C channels (C even). coef: float64 arrays of C values at
 * stride 8C bytes: a0, a1, a2, a3, 2a2, 3a3, 6a3. c: float64 ‖W[:, j]‖² (with
 * FWD_JAC). Outputs float32: y, dy; u, g1 (FWD_SAVE); d2y (FWD_SECOND);
 * r [n] = Σ_j dy²·c_j (FWD_JAC).
 */
function fwdFn(guard: KernelGuard): FnDef {
  const P = { z: 0, y: 1, dy: 2, u: 3, g1: 4, d2y: 5, r: 6, coef: 7, c: 8, n: 9, C: 10, flags: 11, inv: 12 };
  const c = new Code(13);
  const b = c.local(I32);
  const j = c.local(I32);
  const e = c.local(I32);
  const j8 = c.local(I32);
  const C8 = c.local(I32);
  const pa = [0, 1, 2, 3, 4, 5, 6].map(() => c.local(I32)); // a0, a1, a2, a3, 2a2, 3a3, 6a3
  const invv = c.local(V128);
  const L = guardLocals(c, invv);
  const p1 = c.local(V128);
  const s1 = c.local(V128);
  const acc = c.local(V128);
  c.get(P.C).i32(8).i32Mul().set(C8);
  pa.forEach((l, k) => c.get(P.coef).get(C8).i32(k).i32Mul().i32Add().set(l));
  c.get(P.inv).splat().set(invv);
  c.i32(0).set(b);
  c.i32(0).set(e);
  c.block().loop();
  {
    c.get(b).get(P.n).i32GeS().brIf(1);
    c.vConst(0).set(acc);
    c.i32(0).set(j);
    c.i32(0).set(j8);
    c.block().loop();
    {
      c.get(j).get(P.C).i32GeS().brIf(1);
      c.get(P.z).get(e).i32Add().loadF32Pair().set(L.zz);
      emitGuard(c, guard, L);
      // p1 = (3a3·u + 2a2)·u + a1;  y = ((a3·u + a2)·u + a1)·u + a0;  s1 = p1·g1
      loadAt(c, pa[5], j8).get(L.uu).vMul();
      loadAt(c, pa[4], j8).vAdd().get(L.uu).vMul();
      loadAt(c, pa[1], j8).vAdd().set(p1);
      c.get(p1).get(L.g1v).vMul().set(s1);
      c.get(P.y).get(e).i32Add();
      loadAt(c, pa[3], j8).get(L.uu).vMul();
      loadAt(c, pa[2], j8).vAdd().get(L.uu).vMul();
      loadAt(c, pa[1], j8).vAdd().get(L.uu).vMul();
      loadAt(c, pa[0], j8).vAdd();
      c.storeF32Pair();
      c.get(P.dy).get(e).i32Add().get(s1).storeF32Pair();
      c.get(P.flags).i32(FWD_SAVE).i32And().if_();
      c.get(P.u).get(e).i32Add().get(L.uu).storeF32Pair();
      c.get(P.g1).get(e).i32Add().get(L.g1v).storeF32Pair();
      c.end();
      c.get(P.flags).i32(FWD_SECOND).i32And().if_();
      {
        // σ'' = (6a3·u + 2a2)·g1² + p1·g2, g2 = −2u·g1/s (tanh), 0 otherwise
        c.get(P.d2y).get(e).i32Add();
        loadAt(c, pa[6], j8).get(L.uu).vMul();
        loadAt(c, pa[4], j8).vAdd().get(L.g1v).vMul().get(L.g1v).vMul();
        if (guard === 'tanh') c.get(p1).vConst(-2).get(L.uu).vMul().get(L.g1v).vMul().get(invv).vMul().vMul().vAdd();
        c.storeF32Pair();
      }
      c.end();
      c.get(P.flags).i32(FWD_JAC).i32And().if_();
      c.get(acc).get(s1).get(s1).vMul();
      loadAt(c, P.c, j8).vMul().vAdd().set(acc);
      c.end();
      c.get(e).i32(8).i32Add().set(e);
      c.get(j8).i32(16).i32Add().set(j8);
      c.get(j).i32(2).i32Add().set(j);
      c.br(0);
    }
    c.end().end();
    c.get(P.flags).i32(FWD_JAC).i32And().if_();
    c.get(P.r).get(b).i32(4).i32Mul().i32Add().get(acc).extract(0).get(acc).extract(1).f64Add().f32DemoteF64().f32Store();
    c.end();
    c.get(b).i32(1).i32Add().set(b);
    c.br(0);
  }
  c.end().end();
  return { name: `fwd_${guard}`, params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64], results: [], code: c };
}

/**
 * bwd_<guard>(z, u, g1, gy, gdy, gz, coef, G, gr, c2, n, C, flags, inv): the
 * backward pass. coef: float64 arrays (stride 8C) a1, 2a2, 3a3, 6a3. G: float64
 * accumulators (stride 8C, zeroed by the caller) Σgy, Σ(gy·u + ĝ·g1),
 * Σ(gy·u² + 2ĝ·g1·u), Σ(gy·u³ + 3ĝ·g1·u²) and s_j = Σ_b gr_b·σ'² (BWD_JAC), with
 * ĝ = gdy (BWD_GDY) + 2·gr_b·c_j·σ' (BWD_JAC; c2 = 2c_j, float64). u, g1 saved
 * (BWD_SAVED) or recomputed from z. Writes gz (float32).
 */
function bwdFn(guard: KernelGuard): FnDef {
  const P = { z: 0, u: 1, g1: 2, gy: 3, gdy: 4, gz: 5, coef: 6, G: 7, gr: 8, c2: 9, n: 10, C: 11, flags: 12, inv: 13 };
  const c = new Code(14);
  const b = c.local(I32);
  const j = c.local(I32);
  const e = c.local(I32);
  const j8 = c.local(I32);
  const C8 = c.local(I32);
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
  const accum = (ptr: number, value: () => void) => {
    c.get(ptr).get(j8).i32Add();
    loadAt(c, ptr, j8);
    value();
    c.vAdd().v128Store();
  };
  c.get(P.C).i32(8).i32Mul().set(C8);
  pa.forEach((l, k) => c.get(P.coef).get(C8).i32(k).i32Mul().i32Add().set(l));
  pg.forEach((l, k) => c.get(P.G).get(C8).i32(k).i32Mul().i32Add().set(l));
  c.get(P.inv).splat().set(invv);
  c.i32(0).set(b);
  c.i32(0).set(e);
  c.block().loop();
  {
    c.get(b).get(P.n).i32GeS().brIf(1);
    c.get(P.flags).i32(BWD_JAC).i32And().if_();
    c.get(P.gr).get(b).i32(4).i32Mul().i32Add().f32Load().f64PromoteF32().splat().set(gbv);
    c.end();
    c.i32(0).set(j);
    c.i32(0).set(j8);
    c.block().loop();
    {
      c.get(j).get(P.C).i32GeS().brIf(1);
      c.get(P.flags).i32(BWD_SAVED).i32And().if_();
      c.get(P.u).get(e).i32Add().loadF32Pair().set(L.uu);
      c.get(P.g1).get(e).i32Add().loadF32Pair().set(L.g1v);
      c.else_();
      c.get(P.z).get(e).i32Add().loadF32Pair().set(L.zz);
      emitGuard(c, guard, L);
      c.end();
      c.get(P.gy).get(e).i32Add().loadF32Pair().set(ev);
      loadAt(c, pa[2], j8).get(L.uu).vMul();
      loadAt(c, pa[1], j8).vAdd().get(L.uu).vMul();
      loadAt(c, pa[0], j8).vAdd().set(p1);
      c.get(p1).get(L.g1v).vMul().set(dv);
      accum(pg[0], () => c.get(ev));
      c.get(ev).get(L.uu).vMul().set(eu);
      c.get(eu).get(L.uu).vMul().set(eu2);
      c.get(P.flags).i32(BWD_GDY | BWD_JAC).i32And().i32Eqz().if_();
      {
        c.get(P.gz).get(e).i32Add().get(ev).get(dv).vMul().storeF32Pair();
        accum(pg[1], () => c.get(eu));
        accum(pg[2], () => c.get(eu2));
        accum(pg[3], () => c.get(eu2).get(L.uu).vMul());
      }
      c.else_();
      {
        c.vConst(0).set(f);
        c.get(P.flags).i32(BWD_GDY).i32And().if_();
        c.get(P.gdy).get(e).i32Add().loadF32Pair().set(f);
        c.end();
        c.get(P.flags).i32(BWD_JAC).i32And().if_();
        c.get(gbv).get(dv).vMul().set(gdv);
        c.get(f);
        loadAt(c, P.c2, j8).get(gdv).vMul().vAdd().set(f);
        accum(pg[4], () => c.get(gdv).get(dv).vMul());
        c.end();
        // gz = gy·σ' + ĝ·σ'',  σ'' = (6a3·u + 2a2)·g1² + p1·g2
        c.get(P.gz).get(e).i32Add();
        c.get(ev).get(dv).vMul();
        c.get(f);
        loadAt(c, pa[3], j8).get(L.uu).vMul();
        loadAt(c, pa[1], j8).vAdd().get(L.g1v).vMul().get(L.g1v).vMul();
        if (guard === 'tanh') c.get(p1).vConst(-2).get(L.uu).vMul().get(L.g1v).vMul().get(invv).vMul().vMul().vAdd();
        c.vMul().vAdd().storeF32Pair();
        c.get(f).get(L.g1v).vMul().set(fg);
        accum(pg[1], () => c.get(eu).get(fg).vAdd());
        accum(pg[2], () => c.get(eu2).vConst(2).get(fg).vMul().get(L.uu).vMul().vAdd());
        accum(pg[3], () => c.get(eu2).get(L.uu).vMul().vConst(3).get(fg).vMul().get(L.uu).vMul().get(L.uu).vMul().vAdd());
      }
      c.end();
      c.get(e).i32(8).i32Add().set(e);
      c.get(j8).i32(16).i32Add().set(j8);
      c.get(j).i32(2).i32Add().set(j);
      c.br(0);
    }
    c.end().end();
    c.get(b).i32(1).i32Add().set(b);
    c.br(0);
  }
  c.end().end();
  return { name: `bwd_${guard}`, params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64], results: [], code: c };
}

/**
 * colnorm(W, c, dIn, n, factor): c_j = factor·Σ_i W_ij² for W float32 `dIn × n`
 * (n even), c float64.
 */
function colnormFn(): FnDef {
  const P = { W: 0, c: 1, dIn: 2, n: 3, factor: 4 };
  const c = new Code(5);
  const i = c.local(I32);
  const j = c.local(I32);
  const e = c.local(I32);
  const j8 = c.local(I32);
  const w = c.local(V128);
  // zero c
  c.i32(0).set(j8);
  c.block().loop();
  c.get(j8).get(P.n).i32(8).i32Mul().i32GeS().brIf(1);
  c.get(P.c).get(j8).i32Add().vConst(0).v128Store();
  c.get(j8).i32(16).i32Add().set(j8);
  c.br(0);
  c.end().end();
  c.i32(0).set(i);
  c.i32(0).set(e);
  c.block().loop();
  {
    c.get(i).get(P.dIn).i32GeS().brIf(1);
    c.i32(0).set(j);
    c.i32(0).set(j8);
    c.block().loop();
    c.get(j).get(P.n).i32GeS().brIf(1);
    c.get(P.W).get(e).i32Add().loadF32Pair().set(w);
    c.get(P.c).get(j8).i32Add();
    loadAt(c, P.c, j8).get(w).get(w).vMul().get(P.factor).splat().vMul().vAdd().v128Store();
    c.get(e).i32(8).i32Add().set(e);
    c.get(j8).i32(16).i32Add().set(j8);
    c.get(j).i32(2).i32Add().set(j);
    c.br(0);
    c.end().end();
    c.get(i).i32(1).i32Add().set(i);
    c.br(0);
  }
  c.end().end();
  return { name: 'colnorm', params: [I32, I32, I32, I32, F64], results: [], code: c };
}

/** scalegrad(W, S, gW, dIn, n): gW_ij = 2·W_ij·S_j (W, gW float32 `dIn × n`, n even; S float64). */
function scaleGradFn(): FnDef {
  const P = { W: 0, S: 1, gW: 2, dIn: 3, n: 4 };
  const c = new Code(5);
  const i = c.local(I32);
  const j = c.local(I32);
  const e = c.local(I32);
  const j8 = c.local(I32);
  c.i32(0).set(i);
  c.i32(0).set(e);
  c.block().loop();
  {
    c.get(i).get(P.dIn).i32GeS().brIf(1);
    c.i32(0).set(j);
    c.i32(0).set(j8);
    c.block().loop();
    c.get(j).get(P.n).i32GeS().brIf(1);
    c.get(P.gW).get(e).i32Add();
    c.vConst(2).get(P.W).get(e).i32Add().loadF32Pair().vMul();
    loadAt(c, P.S, j8).vMul().storeF32Pair();
    c.get(e).i32(8).i32Add().set(e);
    c.get(j8).i32(16).i32Add().set(j8);
    c.get(j).i32(2).i32Add().set(j);
    c.br(0);
    c.end().end();
    c.get(i).i32(1).i32Add().set(i);
    c.br(0);
  }
  c.end().end();
  return { name: 'scalegrad', params: [I32, I32, I32, I32, I32], results: [], code: c };
}

type FwdFn = (z: number, y: number, dy: number, u: number, g1: number, d2y: number, r: number, coef: number, c: number, n: number, C: number, flags: number, inv: number) => void;
type BwdFn = (z: number, u: number, g1: number, gy: number, gdy: number, gz: number, coef: number, G: number, gr: number, c2: number, n: number, C: number, flags: number, inv: number) => void;

/** The compiled loops for one memory. */
export interface SimdLoops {
  fwd: Record<KernelGuard, FwdFn>;
  bwd: Record<KernelGuard, BwdFn>;
  colnorm: (W: number, c: number, dIn: number, n: number, factor: number) => void;
  scalegrad: (W: number, S: number, gW: number, dIn: number, n: number) => void;
}

let moduleBytes: Uint8Array | undefined;
let compiled: WebAssembly.Module | null | undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdLoops>();

/** The module's bytes (generated once). */
export function simdModuleBytes(): Uint8Array {
  moduleBytes ??= encodeModule(['exp'], [tailFn(), ...GUARDS.map(fwdFn), ...GUARDS.map(bwdFn), colnormFn(), scaleGradFn()]);
  return moduleBytes;
}

/**
 * The SIMD loops bound to `memory` (compiled once, instantiated once per
 * memory), or null when WebAssembly SIMD is unavailable or the memory is
 * shared (the threaded build of the wasm backend).
 */
export function simdLoops(memory: unknown): SimdLoops | null {
  if (typeof WebAssembly === 'undefined' || !(memory instanceof WebAssembly.Memory)) return null;
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return null;
  const existing = instances.get(memory);
  if (existing) return existing;
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(simdModuleBytes() as BufferSource);
    } catch {
      compiled = null; // no SIMD support
    }
  }
  if (compiled === null) return null;
  const inst = new WebAssembly.Instance(compiled, { env: { memory, exp: Math.exp } });
  const x = inst.exports as Record<string, unknown>;
  const loops: SimdLoops = {
    fwd: { tanh: x.fwd_tanh as FwdFn, clip: x.fwd_clip as FwdFn, none: x.fwd_none as FwdFn },
    bwd: { tanh: x.bwd_tanh as BwdFn, clip: x.bwd_clip as BwdFn, none: x.bwd_none as BwdFn },
    colnorm: x.colnorm as SimdLoops['colnorm'],
    scalegrad: x.scalegrad as SimdLoops['scalegrad'],
  };
  instances.set(memory, loops);
  return loops;
}
