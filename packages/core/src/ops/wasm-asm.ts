/*
 * A minimal WebAssembly binary writer: just enough to build the SIMD loops of
 * the project's fused kernels at run time (no toolchain, no binary blob in the
 * repository). Encodings follow the WebAssembly core specification (binary
 * format, version 2.0, with the fixed-width SIMD instructions: prefix 0xfd
 * and a LEB128-encoded opcode).
 *
 * Methods are named after the instructions (`f32x4Add` is `f32x4.add`); each
 * appends the instruction to the function body and returns the builder, so
 * that code reads as the stack machine runs it.
 */

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function f64Bytes(x: number): number[] {
  return Array.from(new Uint8Array(new Float64Array([x]).buffer));
}

function f32Bytes(x: number): number[] {
  return Array.from(new Uint8Array(new Float32Array([x]).buffer));
}

function name(s: string): number[] {
  const b = Array.from(new TextEncoder().encode(s));
  return [...uleb(b.length), ...b];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** Memory-access immediate: alignment exponent (log2 bytes) and constant byte offset. */
function memarg(alignLog2: number, offset: number): number[] {
  return [alignLog2, ...uleb(offset)];
}

/** A function body under construction (stack-machine instructions). */
export class Code {
  readonly bytes: number[] = [];
  private readonly localTypes: ValType[] = [];

  /** @param nParams number of parameters (locals 0 … nParams−1). */
  constructor(private readonly nParams: number) {}

  /** Declares a new local of type t; returns its index. */
  local(t: ValType): number {
    this.localTypes.push(t);
    return this.nParams + this.localTypes.length - 1;
  }

  private op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }

  private simd(code: number, ...rest: number[]): this {
    return this.op(0xfd, ...uleb(code), ...rest);
  }

  // ---- control ----
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  if_(): this {
    return this.op(0x04, 0x40);
  }
  else_(): this {
    return this.op(0x05);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c, ...uleb(depth));
  }
  brIf(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }
  call(fn: number): this {
    return this.op(0x10, ...uleb(fn));
  }
  drop(): this {
    return this.op(0x1a);
  }
  select(): this {
    return this.op(0x1b);
  }

  // ---- locals ----
  get(l: number): this {
    return this.op(0x20, ...uleb(l));
  }
  set(l: number): this {
    return this.op(0x21, ...uleb(l));
  }
  tee(l: number): this {
    return this.op(0x22, ...uleb(l));
  }

  // ---- i32 ----
  i32(v: number): this {
    return this.op(0x41, ...sleb(v | 0));
  }
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32Eq(): this {
    return this.op(0x46);
  }
  i32Ne(): this {
    return this.op(0x47);
  }
  i32LtS(): this {
    return this.op(0x48);
  }
  i32GtS(): this {
    return this.op(0x4a);
  }
  i32LeS(): this {
    return this.op(0x4c);
  }
  i32GeS(): this {
    return this.op(0x4e);
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Sub(): this {
    return this.op(0x6b);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32And(): this {
    return this.op(0x71);
  }
  i32Or(): this {
    return this.op(0x72);
  }
  i32Shl(): this {
    return this.op(0x74);
  }
  i32ShrS(): this {
    return this.op(0x75);
  }
  i32Load(offset = 0): this {
    return this.op(0x28, ...memarg(2, offset));
  }

  // ---- f32 scalar ----
  f32(v: number): this {
    return this.op(0x43, ...f32Bytes(v));
  }
  f32Load(offset = 0): this {
    return this.op(0x2a, ...memarg(2, offset));
  }
  f32Store(offset = 0): this {
    return this.op(0x38, ...memarg(2, offset));
  }
  f32Gt(): this {
    return this.op(0x5e);
  }
  f32Abs(): this {
    return this.op(0x8b);
  }
  f32Sqrt(): this {
    return this.op(0x91);
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f32Sub(): this {
    return this.op(0x93);
  }
  f32Mul(): this {
    return this.op(0x94);
  }
  f32Div(): this {
    return this.op(0x95);
  }
  f32Copysign(): this {
    return this.op(0x98);
  }
  f32DemoteF64(): this {
    return this.op(0xb6);
  }

  // ---- f64 scalar ----
  f64(v: number): this {
    return this.op(0x44, ...f64Bytes(v));
  }
  f64Load(offset = 0): this {
    return this.op(0x2b, ...memarg(3, offset));
  }
  f64Store(offset = 0): this {
    return this.op(0x39, ...memarg(3, offset));
  }
  f64Gt(): this {
    return this.op(0x64);
  }
  f64Abs(): this {
    return this.op(0x99);
  }
  f64Add(): this {
    return this.op(0xa0);
  }
  f64Sub(): this {
    return this.op(0xa1);
  }
  f64Mul(): this {
    return this.op(0xa2);
  }
  f64Div(): this {
    return this.op(0xa3);
  }
  f64Copysign(): this {
    return this.op(0xa6);
  }
  f64PromoteF32(): this {
    return this.op(0xbb);
  }

  // ---- v128 memory ----
  /** 16 bytes at the address (alignment hint: 4 bytes, as for float32 arrays). */
  v128Load(offset = 0): this {
    return this.simd(0x00, ...memarg(2, offset));
  }
  v128Store(offset = 0): this {
    return this.simd(0x0b, ...memarg(2, offset));
  }
  /** One 32-bit value at the address, in every lane. */
  v128Load32Splat(offset = 0): this {
    return this.simd(0x09, ...memarg(2, offset));
  }
  /** One 32-bit value at the address into lane 0, zeros elsewhere. */
  v128Load32Zero(offset = 0): this {
    return this.simd(0x5c, ...memarg(2, offset));
  }
  /** Two 32-bit values at the address into lanes 0–1, zeros elsewhere. */
  v128Load64Zero(offset = 0): this {
    return this.simd(0x5d, ...memarg(2, offset));
  }
  /** Stores lane `lane` (32-bit) at the address (address pushed first, then the vector). */
  v128Store32Lane(lane: number, offset = 0): this {
    return this.simd(0x5a, ...memarg(2, offset), lane);
  }
  /** Stores 64-bit lane `lane` at the address. */
  v128Store64Lane(lane: number, offset = 0): this {
    return this.simd(0x5b, ...memarg(2, offset), lane);
  }
  /** Two float32 at the address, widened to f64x2. */
  loadF32PairAsF64x2(offset = 0): this {
    return this.v128Load64Zero(offset).simd(0x5f); // f64x2.promote_low_f32x4
  }
  /** Narrows an f64x2 to two float32 and stores them at the address (address pushed first). */
  storeF64x2AsF32Pair(offset = 0): this {
    return this.simd(0x5e).v128Store64Lane(0, offset); // f32x4.demote_f64x2_zero
  }

  // ---- v128 bitwise, lanes ----
  v128And(): this {
    return this.simd(0x4e);
  }
  v128AndNot(): this {
    return this.simd(0x4f);
  }
  v128Or(): this {
    return this.simd(0x50);
  }
  v128Xor(): this {
    return this.simd(0x51);
  }
  /** bitselect(a, b, mask): bits of a where mask is 1, of b elsewhere. */
  v128Bitselect(): this {
    return this.simd(0x52);
  }
  v128AnyTrue(): this {
    return this.simd(0x53);
  }
  /** i8x16.shuffle with 16 lane indices (0–31 over the two operands' bytes). */
  i8x16Shuffle(lanes: number[]): this {
    return this.simd(0x0d, ...lanes);
  }
  /** 32-bit lanes (a, b) → [a[l0], a[l1], b[l2 − 4], …]: i8x16.shuffle on 4-byte groups; indices 0–7. */
  shuffle32(l0: number, l1: number, l2: number, l3: number): this {
    const bytes: number[] = [];
    for (const l of [l0, l1, l2, l3]) for (let k = 0; k < 4; k++) bytes.push(4 * l + k);
    return this.i8x16Shuffle(bytes);
  }

  // ---- f32x4 ----
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f, lane);
  }
  f32x4ReplaceLane(lane: number): this {
    return this.simd(0x20, lane);
  }
  f32x4Eq(): this {
    return this.simd(0x41);
  }
  f32x4Lt(): this {
    return this.simd(0x43);
  }
  f32x4Gt(): this {
    return this.simd(0x44);
  }
  f32x4Le(): this {
    return this.simd(0x45);
  }
  f32x4Nearest(): this {
    return this.simd(0x6a);
  }
  f32x4Abs(): this {
    return this.simd(0xe0);
  }
  f32x4Neg(): this {
    return this.simd(0xe1);
  }
  f32x4Sqrt(): this {
    return this.simd(0xe3);
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  f32x4Div(): this {
    return this.simd(0xe7);
  }
  f32x4Min(): this {
    return this.simd(0xe8);
  }
  f32x4Max(): this {
    return this.simd(0xe9);
  }
  /** f32x4.splat of a constant. */
  f32x4Const(x: number): this {
    return this.f32(x).f32x4Splat();
  }
  i32x4TruncSatF32x4S(): this {
    return this.simd(0xf8);
  }
  f32x4ConvertI32x4S(): this {
    return this.simd(0xfa);
  }

  // ---- i32x4 ----
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  i32x4Shl(): this {
    return this.simd(0xab);
  }
  i32x4Add(): this {
    return this.simd(0xae);
  }

  // ---- f64x2 ----
  f64x2Splat(): this {
    return this.simd(0x14);
  }
  f64x2ExtractLane(lane: number): this {
    return this.simd(0x21, lane);
  }
  f64x2Add(): this {
    return this.simd(0xf0);
  }
  f64x2Mul(): this {
    return this.simd(0xf2);
  }
  /** f32x4 → f64x2 of lanes 0–1. */
  f64x2PromoteLowF32x4(): this {
    return this.simd(0x5f);
  }

  /** The encoded body (locals + instructions + end). */
  encode(): number[] {
    const groups: number[][] = [];
    for (const t of this.localTypes) groups.push([1, t]);
    const body = [...vec(groups), ...this.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** A function of the module. */
export interface FnDef {
  name: string;
  params: ValType[];
  results: ValType[];
  code: Code;
}

/** A function imported from `env` (called by index: imports come first, in order). */
export interface ImportDef {
  name: string;
  params: ValType[];
  results: ValType[];
}

/**
 * Encodes a module that imports `env.memory` (any size) and the given
 * functions from `env`, and exports the defined functions by name. Function
 * indices: imports first (in order), then `fns`.
 */
export function encodeModule(imports: ImportDef[], fns: FnDef[]): Uint8Array {
  const types: number[][] = [];
  const typeIndex = (params: ValType[], results: ValType[]): number => {
    const t = [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
    const key = t.join(',');
    const i = types.findIndex((x) => x.join(',') === key);
    if (i >= 0) return i;
    types.push(t);
    return types.length - 1;
  };
  const impTypes = imports.map((f) => typeIndex(f.params, f.results));
  const fnTypes = fns.map((f) => typeIndex(f.params, f.results));
  const importEntries = [
    [...name('env'), ...name('memory'), 0x02, 0x00, 0x01], // memory, min 1 page, no maximum
    ...imports.map((f, i) => [...name('env'), ...name(f.name), 0x00, ...uleb(impTypes[i])]),
  ];
  const exports = fns.map((f, i) => [...name(f.name), 0x00, ...uleb(imports.length + i)]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(importEntries)),
    ...section(3, vec(fnTypes.map((t) => uleb(t)))),
    ...section(7, vec(exports)),
    ...section(10, vec(fns.map((f) => f.code.encode()))),
  ];
  return new Uint8Array(bytes);
}

/**
 * Compiles `bytes` once and instantiates it once per memory (cached), or
 * returns null where WebAssembly SIMD is unavailable or the memory is shared
 * (the threaded build of tfjs's wasm backend).
 */
export function simdInstanceCache(bytes: () => Uint8Array, importsFor: () => Record<string, unknown>): (memory: unknown) => WebAssembly.Exports | null {
  let compiled: WebAssembly.Module | null | undefined;
  const instances = new WeakMap<WebAssembly.Memory, WebAssembly.Exports>();
  return (memory) => {
    if (typeof WebAssembly === 'undefined' || !(memory instanceof WebAssembly.Memory)) return null;
    if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return null;
    const existing = instances.get(memory);
    if (existing) return existing;
    if (compiled === undefined) {
      try {
        compiled = new WebAssembly.Module(bytes() as BufferSource);
      } catch {
        compiled = null; // no SIMD support
      }
    }
    if (compiled === null) return null;
    const inst = new WebAssembly.Instance(compiled, { env: { memory, ...importsFor() } });
    instances.set(memory, inst.exports);
    return inst.exports;
  };
}
