/*
 * A minimal WebAssembly binary writer: just enough to build the SIMD loops of
 * wasm-simd.ts at run time (no toolchain, no binary blob in the repository).
 * Encodings follow the WebAssembly core specification (binary format) and the
 * fixed-width SIMD proposal (opcodes after the 0xfd prefix, LEB128-encoded).
 */

/** Value types. */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F64 | typeof V128;

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
  const b = new Uint8Array(new Float64Array([x]).buffer);
  return Array.from(b);
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

  // control
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

  // locals
  get(l: number): this {
    return this.op(0x20, ...uleb(l));
  }
  set(l: number): this {
    return this.op(0x21, ...uleb(l));
  }
  tee(l: number): this {
    return this.op(0x22, ...uleb(l));
  }

  // i32
  i32(v: number): this {
    return this.op(0x41, ...sleb(v | 0));
  }
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32GeS(): this {
    return this.op(0x4e);
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32And(): this {
    return this.op(0x71);
  }
  i32Eq(): this {
    return this.op(0x46);
  }

  // f64 scalar
  f64(v: number): this {
    return this.op(0x44, ...f64Bytes(v));
  }
  f64Load(offset = 0): this {
    return this.op(0x2b, 3, ...uleb(offset));
  }
  f64Store(offset = 0): this {
    return this.op(0x39, 3, ...uleb(offset));
  }
  f32Store(offset = 0): this {
    return this.op(0x38, 2, ...uleb(offset));
  }
  f32Load(offset = 0): this {
    return this.op(0x2a, 2, ...uleb(offset));
  }
  f64PromoteF32(): this {
    return this.op(0xbb);
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
  f32DemoteF64(): this {
    return this.op(0xb6);
  }

  // v128 / f64x2
  v128Load(offset = 0): this {
    return this.simd(0x00, 3, ...uleb(offset));
  }
  v128Store(offset = 0): this {
    return this.simd(0x0b, 3, ...uleb(offset));
  }
  /** Two float32 at the address, widened to f64x2. */
  loadF32Pair(offset = 0): this {
    return this.simd(0x5d, 2, ...uleb(offset)).simd(0x5f); // v128.load64_zero; f64x2.promote_low_f32x4
  }
  /** Narrows an f64x2 to two float32 and stores them at the address (address pushed first). */
  storeF32Pair(offset = 0): this {
    return this.simd(0x5e).simd(0x5b, 2, ...uleb(offset), 0); // f32x4.demote_f64x2_zero; v128.store64_lane 0
  }
  splat(): this {
    return this.simd(0x14);
  }
  extract(lane: number): this {
    return this.simd(0x21, lane);
  }
  replace(lane: number): this {
    return this.simd(0x22, lane);
  }
  vGt(): this {
    return this.simd(0x4a);
  }
  vLe(): this {
    return this.simd(0x4b);
  }
  bitselect(): this {
    return this.simd(0x52);
  }
  anyTrue(): this {
    return this.simd(0x53);
  }
  vAbs(): this {
    return this.simd(0xec);
  }
  vAdd(): this {
    return this.simd(0xf0);
  }
  vSub(): this {
    return this.simd(0xf1);
  }
  vMul(): this {
    return this.simd(0xf2);
  }
  vDiv(): this {
    return this.simd(0xf3);
  }
  vMin(): this {
    return this.simd(0xf4);
  }
  vMax(): this {
    return this.simd(0xf5);
  }
  /** f64x2.splat of a constant. */
  vConst(x: number): this {
    return this.f64(x).splat();
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

/**
 * Encodes a module that imports `env.memory` (any size) and the given f64 → f64
 * functions from `env`, and exports the defined functions by name. Function
 * indices: imports first (in order), then `fns`.
 */
export function encodeModule(importedFns: string[], fns: FnDef[]): Uint8Array {
  const types: number[][] = [];
  const typeIndex = (params: ValType[], results: ValType[]): number => {
    const t = [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
    const key = t.join(',');
    const i = types.findIndex((x) => x.join(',') === key);
    if (i >= 0) return i;
    types.push(t);
    return types.length - 1;
  };
  const impType = typeIndex([F64], [F64]);
  const fnTypes = fns.map((f) => typeIndex(f.params, f.results));
  const imports = [
    [...name('env'), ...name('memory'), 0x02, 0x00, 0x01], // memory, min 1 page, no maximum
    ...importedFns.map((f) => [...name('env'), ...name(f), 0x00, ...uleb(impType)]),
  ];
  const exports = fns.map((f, i) => [...name(f.name), 0x00, ...uleb(importedFns.length + i)]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(fnTypes.map((t) => uleb(t)))),
    ...section(7, vec(exports)),
    ...section(10, vec(fns.map((f) => f.code.encode()))),
  ];
  return new Uint8Array(bytes);
}
