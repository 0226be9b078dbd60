import { Code, encodeModule, F32, I32, V128, simdInstanceCache, type FnDef } from './wasm-asm';

/*
 * WebAssembly SIMD loops (float32, four lanes) behind the wasm kernels of the
 * dense op and of the fused Adam update, running directly on tfjs's wasm heap
 * (the module imports the backend's WebAssembly.Memory; pointers are byte
 * offsets into it). Generated at run time by wasm-asm.ts, compiled once,
 * instantiated once per memory.
 *
 * Matrix products use a register-blocked broadcast scheme on unpacked
 * row-major operands: a 4 × 8 tile of C lives in eight f32x4 accumulators; for
 * each k, two vectors of B's row k are loaded and each of the tile's four A
 * elements is broadcast and multiplied in. Every output is accumulated in
 * float32 in the order k = 0, 1, …, K−1 (a multiply, then an add: wasm SIMD
 * has no fused multiply-add) — the order of tfjs's own wasm matMul, whose
 * results these equal bit for bit. The transposed-A form (Aᵀ·B, the weight
 * gradient xᵀ·dz) reads A column-wise with the same scheme, so no transpose
 * is ever materialised for it; A·Bᵀ (the input gradient dz·Wᵀ) transposes
 * W into scratch memory first (a 4 × 4 shuffle transpose), which costs a small
 * fraction of the product.
 */

/** Column widths of a tile: two vectors, one vector, one lane. */
type Width = 8 | 4 | 1;
/** How A is stored: `n` row-major M × K (A·B), `t` row-major K × M (Aᵀ·B). */
type AMode = 'n' | 't';

const ROWS = [4, 1] as const;
const WIDTHS: readonly Width[] = [8, 4, 1];

/** Pushes B's vector v (of the tile's width) at address local `p` + 16·v. */
function loadB(c: Code, p: number, w: Width, v: number): void {
  if (w === 1) c.get(p).v128Load32Zero(0);
  else c.get(p).v128Load(16 * v);
}

/** Stores vector `val` (tile width w) at address local `p` + 16·v. */
function storeC(c: Code, p: number, w: Width, v: number, val: () => void): void {
  c.get(p);
  val();
  if (w === 1) c.v128Store32Lane(0, 0);
  else c.v128Store(16 * v);
}

/**
 * gemm_<a>_r<R>_w<W>(A, B, C, bias, i0, i1, j0, j1, K, lda, ldb, ldc):
 * C[i, j] = Σ_k A(i, k)·B[k, j] (+ bias[j] when bias ≠ 0) for rows i0 ≤ i < i1
 * (step R) and columns j0 ≤ j < j1 (step W); all addresses are byte offsets,
 * strides in elements. A(i, k) = A[i·lda + k] (`n`) or A[k·lda + i] (`t`).
 */
function gemmFn(a: AMode, R: 4 | 1, W: Width): FnDef {
  const P = { A: 0, B: 1, C: 2, bias: 3, i0: 4, i1: 5, j0: 6, j1: 7, K: 8, lda: 9, ldb: 10, ldc: 11, pack: 12 };
  const c = new Code(13);
  const i = c.local(I32);
  const j = c.local(I32);
  const k = c.local(I32);
  const pa = c.local(I32);
  const pb = c.local(I32);
  const pc = c.local(I32);
  const aStep = c.local(I32); // bytes from A(i, k) to A(i, k+1)
  const rStep = c.local(I32); // bytes from A(i, k) to A(i+1, k)
  const ldb4 = c.local(I32);
  const bBase = c.local(I32); // B[0, j], or the packed panel
  const bStep = c.local(I32); // bytes from B[k, j] to B[k+1, j] as read
  const V = W === 8 ? 2 : 1;
  const acc = Array.from({ length: R * V }, () => c.local(V128));
  const bv = Array.from({ length: V }, () => c.local(V128));
  const av = c.local(V128);
  if (a === 'n') {
    c.i32(4).set(aStep);
    c.get(P.lda).i32(4).i32Mul().set(rStep);
  } else {
    c.get(P.lda).i32(4).i32Mul().set(aStep);
    c.i32(4).set(rStep);
  }
  c.get(P.ldb).i32(4).i32Mul().set(ldb4);
  c.get(P.j0).set(j);
  c.block().loop();
  {
    c.get(j).get(P.j1).i32GeS().brIf(1);
    c.get(P.B).get(j).i32(4).i32Mul().i32Add().set(bBase);
    c.get(ldb4).set(bStep);
    if (W === 8) {
      // copy the panel B[0..K, j..j+7] to contiguous scratch: read once per column block, it then stays in
      // cache across the row blocks (with a power-of-two row length its rows would share a few cache sets)
      c.get(P.pack).if_();
      {
        c.get(bBase).set(pb);
        c.get(P.pack).set(pc);
        c.get(P.K).set(k);
        c.block().loop();
        c.get(k).i32Eqz().brIf(1);
        c.get(pc).get(pb).v128Load(0).v128Store(0);
        c.get(pc).get(pb).v128Load(16).v128Store(16);
        c.get(pb).get(ldb4).i32Add().set(pb);
        c.get(pc).i32(32).i32Add().set(pc);
        c.get(k).i32(1).i32Sub().set(k);
        c.br(0);
        c.end().end();
        c.get(P.pack).set(bBase);
        c.i32(32).set(bStep);
      }
      c.end();
    }
    c.get(P.i0).set(i);
    c.block().loop();
    {
      c.get(i).get(P.i1).i32GeS().brIf(1);
      for (const l of acc) c.f32x4Const(0).set(l);
      // pa = address of A(i, 0); pb = address of B[0, j]
      c.get(P.A).get(i).get(rStep).i32Mul().i32Add().set(pa);
      c.get(bBase).set(pb);
      c.get(P.K).set(k);
      c.block().loop();
      {
        c.get(k).i32Eqz().brIf(1);
        for (let v = 0; v < V; v++) {
          loadB(c, pb, W, v);
          c.set(bv[v]);
        }
        for (let r = 0; r < R; r++) {
          if (r === 0) c.get(pa);
          else c.get(pa).get(rStep).i32(r).i32Mul().i32Add();
          c.v128Load32Splat(0).set(av);
          for (let v = 0; v < V; v++) c.get(acc[r * V + v]).get(av).get(bv[v]).f32x4Mul().f32x4Add().set(acc[r * V + v]);
        }
        c.get(pa).get(aStep).i32Add().set(pa);
        c.get(pb).get(bStep).i32Add().set(pb);
        c.get(k).i32(1).i32Sub().set(k);
        c.br(0);
      }
      c.end().end();
      // epilogue: C = acc, or acc + bias (rounded once more, as tfjs's add after its matMul)
      const epilogue = (withBias: boolean) => {
        if (withBias) {
          c.get(P.bias).get(j).i32(4).i32Mul().i32Add().set(pb);
          for (let v = 0; v < V; v++) {
            loadB(c, pb, W, v);
            c.set(bv[v]);
          }
        }
        for (let r = 0; r < R; r++) {
          c.get(P.C).get(i).i32(r).i32Add().get(P.ldc).i32Mul().get(j).i32Add().i32(4).i32Mul().i32Add().set(pc);
          for (let v = 0; v < V; v++) {
            storeC(c, pc, W, v, () => {
              c.get(acc[r * V + v]);
              if (withBias) c.get(bv[v]).f32x4Add();
            });
          }
        }
      };
      c.get(P.bias).if_();
      epilogue(true);
      c.else_();
      epilogue(false);
      c.end();
      c.get(i).i32(R).i32Add().set(i);
      c.br(0);
    }
    c.end().end();
    c.get(j).i32(W).i32Add().set(j);
    c.br(0);
  }
  c.end().end();
  return { name: `gemm_${a}_r${R}_w${W}`, params: Array(13).fill(I32), results: [], code: c };
}

/** transpose(src, dst, rows, cols): dst[j, i] = src[i, j] (row-major, float32), 4 × 4 shuffle blocks plus scalar edges. */
function transposeFn(): FnDef {
  const P = { src: 0, dst: 1, rows: 2, cols: 3 };
  const c = new Code(4);
  const i = c.local(I32);
  const j = c.local(I32);
  const r4 = c.local(I32);
  const c4 = c.local(I32);
  const ps = c.local(I32);
  const pd = c.local(I32);
  const rows4 = c.local(I32); // rows·4 bytes
  const cols4b = c.local(I32); // cols·4 bytes
  const r = [0, 1, 2, 3].map(() => c.local(V128));
  const t = [0, 1, 2, 3].map(() => c.local(V128));
  c.get(P.rows).i32(-4).i32And().set(r4);
  c.get(P.cols).i32(-4).i32And().set(c4);
  c.get(P.rows).i32(4).i32Mul().set(rows4);
  c.get(P.cols).i32(4).i32Mul().set(cols4b);
  const s1 = c.local(I32);
  const s2 = c.local(I32);
  const s3 = c.local(I32);
  const d1 = c.local(I32);
  const d2 = c.local(I32);
  const d3 = c.local(I32);
  const dStep = c.local(I32); // bytes from dst[j, i] to dst[j+4, i]
  const ti = c.local(I32);
  const tj = c.local(I32);
  const iEnd = c.local(I32);
  const jEnd = c.local(I32);
  c.get(rows4).i32(4).i32Mul().set(dStep);
  // 16 × 16 tiles of 4 × 4 blocks: with power-of-two row lengths, a whole-row sweep maps every
  // destination row to the same few cache sets; a tile's 16 rows fit
  const minTo = (a: number, step: number, lim: number, out: number) => {
    c.get(a).i32(step).i32Add().get(lim).get(a).i32(step).i32Add().get(lim).i32LtS().select().set(out);
  };
  c.i32(0).set(ti);
  c.block().loop();
  {
    c.get(ti).get(r4).i32GeS().brIf(1);
    minTo(ti, 16, r4, iEnd);
    c.i32(0).set(tj);
    c.block().loop();
    {
      c.get(tj).get(c4).i32GeS().brIf(1);
      minTo(tj, 16, c4, jEnd);
      c.get(ti).set(i);
      c.block().loop();
      {
        c.get(i).get(iEnd).i32GeS().brIf(1);
        // ps: src[i, tj] (rows i..i+3 at + q·cols·4); pd: dst[tj, i] (rows j..j+3 at + q·rows·4)
        c.get(P.src).get(i).get(cols4b).i32Mul().i32Add().get(tj).i32(4).i32Mul().i32Add().set(ps);
        c.get(ps).get(cols4b).i32Add().set(s1);
        c.get(s1).get(cols4b).i32Add().set(s2);
        c.get(s2).get(cols4b).i32Add().set(s3);
        c.get(P.dst).get(tj).get(rows4).i32Mul().i32Add().get(i).i32(4).i32Mul().i32Add().set(pd);
        c.get(tj).set(j);
        c.block().loop();
        {
          c.get(j).get(jEnd).i32GeS().brIf(1);
          [ps, s1, s2, s3].forEach((p, q) => c.get(p).v128Load(0).set(r[q]));
          c.get(r[0]).get(r[1]).shuffle32(0, 4, 1, 5).set(t[0]);
          c.get(r[0]).get(r[1]).shuffle32(2, 6, 3, 7).set(t[1]);
          c.get(r[2]).get(r[3]).shuffle32(0, 4, 1, 5).set(t[2]);
          c.get(r[2]).get(r[3]).shuffle32(2, 6, 3, 7).set(t[3]);
          c.get(pd).get(rows4).i32Add().set(d1);
          c.get(d1).get(rows4).i32Add().set(d2);
          c.get(d2).get(rows4).i32Add().set(d3);
          c.get(pd).get(t[0]).get(t[2]).shuffle32(0, 1, 4, 5).v128Store(0);
          c.get(d1).get(t[0]).get(t[2]).shuffle32(2, 3, 6, 7).v128Store(0);
          c.get(d2).get(t[1]).get(t[3]).shuffle32(0, 1, 4, 5).v128Store(0);
          c.get(d3).get(t[1]).get(t[3]).shuffle32(2, 3, 6, 7).v128Store(0);
          for (const p of [ps, s1, s2, s3]) c.get(p).i32(16).i32Add().set(p);
          c.get(pd).get(dStep).i32Add().set(pd);
          c.get(j).i32(4).i32Add().set(j);
          c.br(0);
        }
        c.end().end();
        c.get(i).i32(4).i32Add().set(i);
        c.br(0);
      }
      c.end().end();
      c.get(tj).i32(16).i32Add().set(tj);
      c.br(0);
    }
    c.end().end();
    c.get(ti).i32(16).i32Add().set(ti);
    c.br(0);
  }
  c.end().end();
  // scalar edges: columns ≥ c4 of every row, then rows ≥ r4 of the columns < c4
  const edge = (iFrom: () => void, iTo: number, jFrom: () => void, jTo: number) => {
    iFrom();
    c.set(i);
    c.block().loop();
    {
      c.get(i).get(iTo).i32GeS().brIf(1);
      jFrom();
      c.set(j);
      c.block().loop();
      {
        c.get(j).get(jTo).i32GeS().brIf(1);
        c.get(P.dst).get(j).get(P.rows).i32Mul().get(i).i32Add().i32(4).i32Mul().i32Add();
        c.get(P.src).get(i).get(P.cols).i32Mul().get(j).i32Add().i32(4).i32Mul().i32Add().f32Load(0);
        c.f32Store(0);
        c.get(j).i32(1).i32Add().set(j);
        c.br(0);
      }
      c.end().end();
      c.get(i).i32(1).i32Add().set(i);
      c.br(0);
    }
    c.end().end();
  };
  edge(() => c.i32(0), P.rows, () => c.get(c4), P.cols);
  edge(() => c.get(r4), P.rows, () => c.i32(0), c4);
  return { name: 'transpose', params: [I32, I32, I32, I32], results: [], code: c };
}

/** colsum(src, dst, rows, cols): dst[j] = Σ_i src[i, j], summed in float32 in the order i = 0, 1, … (tfjs's wasm Sum order). */
function colsumFn(): FnDef {
  const P = { src: 0, dst: 1, rows: 2, cols: 3 };
  const c = new Code(4);
  const i = c.local(I32);
  const j = c.local(I32);
  const c4 = c.local(I32);
  const p = c.local(I32);
  const cols4b = c.local(I32);
  const acc = c.local(V128);
  const s = c.local(F32);
  c.get(P.cols).i32(-4).i32And().set(c4);
  c.get(P.cols).i32(4).i32Mul().set(cols4b);
  c.i32(0).set(j);
  c.block().loop();
  {
    c.get(j).get(c4).i32GeS().brIf(1);
    c.f32x4Const(0).set(acc);
    c.get(P.src).get(j).i32(4).i32Mul().i32Add().set(p);
    c.get(P.rows).set(i);
    c.block().loop();
    c.get(i).i32Eqz().brIf(1);
    c.get(acc).get(p).v128Load(0).f32x4Add().set(acc);
    c.get(p).get(cols4b).i32Add().set(p);
    c.get(i).i32(1).i32Sub().set(i);
    c.br(0);
    c.end().end();
    c.get(P.dst).get(j).i32(4).i32Mul().i32Add().get(acc).v128Store(0);
    c.get(j).i32(4).i32Add().set(j);
    c.br(0);
  }
  c.end().end();
  c.block().loop();
  {
    c.get(j).get(P.cols).i32GeS().brIf(1);
    c.f32(0).set(s);
    c.get(P.src).get(j).i32(4).i32Mul().i32Add().set(p);
    c.get(P.rows).set(i);
    c.block().loop();
    c.get(i).i32Eqz().brIf(1);
    c.get(s).get(p).f32Load(0).f32Add().set(s);
    c.get(p).get(cols4b).i32Add().set(p);
    c.get(i).i32(1).i32Sub().set(i);
    c.br(0);
    c.end().end();
    c.get(P.dst).get(j).i32(4).i32Mul().i32Add().get(s).f32Store(0);
    c.get(j).i32(1).i32Add().set(j);
    c.br(0);
  }
  c.end().end();
  return { name: 'colsum', params: [I32, I32, I32, I32], results: [], code: c };
}

/**
 * adam(p, g, m, v, pOut, mOut, vOut, n, b1, c1, b2, c2, omb1, omb2, eps, nlr):
 * the Adam update of n float32 values, each operation rounded to float32 in
 * tfjs's order:
 * m' = m·β1 + g·(1−β1);  v' = v·β2 + g²·(1−β2);
 * p' = ((m'/(1−β1ᵗ)) / (√(v'/(1−β2ᵗ)) + ε))·(−lr) + p.
 */
function adamFn(): FnDef {
  const P = { p: 0, g: 1, m: 2, v: 3, pOut: 4, mOut: 5, vOut: 6, n: 7, b1: 8, c1: 9, b2: 10, c2: 11, omb1: 12, omb2: 13, eps: 14, nlr: 15 };
  const c = new Code(16);
  const e = c.local(I32);
  const end = c.local(I32);
  const end4 = c.local(I32);
  const sc = [P.b1, P.c1, P.b2, P.c2, P.omb1, P.omb2, P.eps, P.nlr].map(() => c.local(V128));
  const [b1, c1, b2, c2, omb1, omb2, eps, nlr] = sc;
  const g = c.local(V128);
  const m = c.local(V128);
  const v = c.local(V128);
  [P.b1, P.c1, P.b2, P.c2, P.omb1, P.omb2, P.eps, P.nlr].forEach((p, q) => c.get(p).f32x4Splat().set(sc[q]));
  c.get(P.n).i32(4).i32Mul().set(end);
  c.get(P.n).i32(-4).i32And().i32(4).i32Mul().set(end4);
  const body = (w: 4 | 1) => {
    const load = (base: number) => {
      c.get(base).get(e).i32Add();
      if (w === 4) c.v128Load(0);
      else c.v128Load32Zero(0);
    };
    const store = (base: number, val: number) => {
      c.get(base).get(e).i32Add().get(val);
      if (w === 4) c.v128Store(0);
      else c.v128Store32Lane(0, 0);
    };
    load(P.g);
    c.set(g);
    load(P.m);
    c.get(b1).f32x4Mul().get(g).get(c1).f32x4Mul().f32x4Add().set(m);
    load(P.v);
    c.get(b2).f32x4Mul().get(g).get(g).f32x4Mul().get(c2).f32x4Mul().f32x4Add().set(v);
    store(P.mOut, m);
    store(P.vOut, v);
    c.get(P.pOut).get(e).i32Add();
    c.get(m).get(omb1).f32x4Div();
    c.get(v).get(omb2).f32x4Div().f32x4Sqrt().get(eps).f32x4Add();
    c.f32x4Div().get(nlr).f32x4Mul();
    load(P.p);
    c.f32x4Add();
    if (w === 4) c.v128Store(0);
    else c.v128Store32Lane(0, 0);
    c.get(e).i32(4 * w).i32Add().set(e);
  };
  c.i32(0).set(e);
  c.block().loop();
  c.get(e).get(end4).i32GeS().brIf(1);
  body(4);
  c.br(0);
  c.end().end();
  c.block().loop();
  c.get(e).get(end).i32GeS().brIf(1);
  body(1);
  c.br(0);
  c.end().end();
  return { name: 'adam', params: [I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32], results: [], code: c };
}

type Gemm = (A: number, B: number, C: number, bias: number, i0: number, i1: number, j0: number, j1: number, K: number, lda: number, ldb: number, ldc: number, pack: number) => void;

/** The compiled loops for one memory. */
export interface CoreSimd {
  gemm: Record<string, Gemm>;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  colsum(src: number, dst: number, rows: number, cols: number): void;
  adam(p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, n: number, b1: number, c1: number, b2: number, c2: number, omb1: number, omb2: number, eps: number, nlr: number): void;
}

let moduleBytes: Uint8Array | undefined;

/** The module's bytes (generated once). */
export function coreSimdModuleBytes(): Uint8Array {
  if (!moduleBytes) {
    const fns: FnDef[] = [];
    for (const a of ['n', 't'] as const) for (const R of ROWS) for (const W of WIDTHS) fns.push(gemmFn(a, R, W));
    fns.push(transposeFn(), colsumFn(), adamFn());
    moduleBytes = encodeModule([], fns);
  }
  return moduleBytes;
}

const instanceFor = simdInstanceCache(coreSimdModuleBytes, () => ({}));
const wrapped = new WeakMap<WebAssembly.Exports, CoreSimd>();

/**
 * The loops bound to `memory`, or null where WebAssembly SIMD is unavailable
 * or the memory is shared (tfjs's threaded wasm build).
 */
export function coreSimd(memory: unknown): CoreSimd | null {
  const x = instanceFor(memory);
  if (!x) return null;
  let w = wrapped.get(x);
  if (!w) {
    const gemm: Record<string, Gemm> = {};
    for (const a of ['n', 't']) for (const R of ROWS) for (const W of WIDTHS) gemm[`${a}${R}${W}`] = x[`gemm_${a}_r${R}_w${W}`] as Gemm;
    w = { gemm, transpose: x.transpose as CoreSimd['transpose'], colsum: x.colsum as CoreSimd['colsum'], adam: x.adam as CoreSimd['adam'] };
    wrapped.set(x, w);
  }
  return w;
}

/**
 * C[M, N] = A·B (`a` = 'n', A row-major M × K) or Aᵀ·B (`a` = 't', A row-major
 * K × M), plus bias[N] when `bias` ≠ 0; B row-major K × N; byte addresses on
 * the heap. Float32, accumulated in the order k = 0 … K−1. `pack`: scratch of
 * 32·K bytes for B's column panels (0: read B in place), worth it when M ≥ 8.
 */
export function simdGemm(s: CoreSimd, a: AMode, A: number, B: number, C: number, bias: number, M: number, N: number, K: number, pack = 0): void {
  const lda = a === 'n' ? K : M;
  const M4 = M - (M % 4);
  const N8 = N - (N % 8);
  const N4 = N - (N % 4);
  const spans: Array<[Width, number, number]> = [
    [8, 0, N8],
    [4, N8, N4],
    [1, N4, N],
  ];
  for (const [W, j0, j1] of spans) {
    if (j1 <= j0) continue;
    if (M4 > 0) s.gemm[`${a}4${W}`](A, B, C, bias, 0, M4, j0, j1, K, lda, N, N, pack);
    if (M > M4) s.gemm[`${a}1${W}`](A, B, C, bias, M4, M, j0, j1, K, lda, N, N, 0);
  }
}
