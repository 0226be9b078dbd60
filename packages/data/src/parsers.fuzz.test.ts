// Property-based fuzzing of every file parser (fast-check, seeded): whatever
// the bytes, a parser returns a value or throws a ChainzError — never a raw
// RangeError/TypeError, never a native abort (which would kill this worker).
// A few hundred cases per parser here; `node scripts/fuzz-parsers.mjs` runs
// many more (CHAINZ_FUZZ_RUNS, CHAINZ_FUZZ_SEED).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isChainzError } from '@chainz/core';
import { parseNpy, readNpy, readNpyHeader } from './npy/npy';
import { npyBytes } from './npy/test-npy';
import { parsePtbTree } from './sst5/ptb';
import { parseSst5Trees } from './sst5/adapter';
import { encodeLabels, parseTabularCsv } from './csv/parse';
import { readYelpCsv } from './yelp/adapter';
import { CIFAR10_RECORD_BYTES, decodeCifar10Records, readCifar10Binary } from './cifar10/cifar10';

const RUNS = Number(process.env.CHAINZ_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.CHAINZ_FUZZ_SEED ?? 20_261_207);
const params = { numRuns: RUNS, seed: SEED, endOnFailure: true };
const tmp = mkdtempSync(path.join(tmpdir(), 'chainz-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let fileNo = 0;
const tmpFile = (ext: string, data: Uint8Array | string) => {
  const f = path.join(tmp, `case-${++fileNo}.${ext}`);
  writeFileSync(f, data);
  return f;
};

/** Outcomes per parser (printed with CHAINZ_FUZZ_STATS=1): how many cases parsed, and each error code's count. */
const stats = new Map<string, Map<string, number>>();
afterAll(() => {
  if (process.env.CHAINZ_FUZZ_STATS) for (const [k, v] of stats) console.log(`${k}: ${[...v].map(([c, n]) => `${c} ${n}`).join(', ')}`);
});

/** Run `f`; a thrown value that is not a ChainzError fails the property with its name and message. */
async function onlyTyped(f: () => unknown, what = 'other'): Promise<void> {
  let outcome = 'ok';
  try {
    await f();
  } catch (e) {
    if (!isChainzError(e)) throw new Error(`untyped ${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`);
    outcome = e.code;
  }
  const m = stats.get(what) ?? new Map<string, number>();
  m.set(outcome, (m.get(outcome) ?? 0) + 1);
  stats.set(what, m);
}

// ── mutations of valid inputs ─────────────────────────────────────────────
type Mutation = { kind: 'insert' | 'delete' | 'replace' | 'duplicate' | 'truncate' | 'byte'; at: number; len: number; bytes: number[] };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('insert', 'delete', 'replace', 'duplicate', 'truncate', 'byte'),
  at: fc.nat(),
  len: fc.integer({ min: 1, max: 64 }),
  bytes: fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x28, 0x29, 0x2c, 0x22, 0x0a, 0x0d, 0x00, 0xff, 0x27, 0x7b, 0x7d)), { minLength: 1, maxLength: 16 }),
});

function mutate(input: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = Array.from(input);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.kind) {
      case 'insert':
        b.splice(at, 0, ...m.bytes);
        break;
      case 'delete':
        b.splice(at, m.len);
        break;
      case 'replace':
        b.splice(at, m.bytes.length, ...m.bytes);
        break;
      case 'duplicate':
        b.splice(at, 0, ...b.slice(at, at + m.len * 8));
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'byte':
        if (b.length > 0) b[m.at % b.length] = m.bytes[0];
        break;
    }
  }
  return Uint8Array.from(b);
}

/** Bytes: a mutated seed, or (one case in four) random bytes. */
const fuzzBytes = (seeds: Uint8Array[]) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { maxLength: 1 })).map(([s, m]) => mutate(s, m)) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { maxLength: 6 })).map(([s, m]) => mutate(s, m)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
  );
const utf8 = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder('utf-8').decode(b);

// ── seeds ─────────────────────────────────────────────────────────────────
const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);
const NPY_SEEDS = [
  npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f32(1, 2, 3, 4, 5, 6)),
  npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f32(1, 2, 3, 4, 5, 6), 2),
  npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", new Uint8Array([1, 2, 3, 4])),
  npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", new Uint8Array(8)),
  (() => {
    const b = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32(1, 2), 2);
    b[6] = 3;
    return b;
  })(),
];
const PTB_SEEDS = ['(3 (2 It) (4 (2 is) (3 (3 good) (2 .))))', '(2 (2 -LRB-) (2 (2 a\\/b) (2 -RRB-)))', `${'(2 '.repeat(300)}w${')'.repeat(300)}`].map((s) => utf8.encode(s));
const CSV_SEEDS = [
  'a,b,label\n1,2,x\n3,4,y\n5,6,x\n',
  'a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,0,x\n1.5,-2e3,y\n',
  '6,148,72,1\n1,85,66,0\n8,183,64,1\n1,89,66,0\n',
  'a;b;c\n1,5;2;0\n3;4;1\n',
  '"x","y"\n"1","2"\n"3","4"\n',
  '1\t2\t0\n3\t4\t1\nNA\t5\t1\n',
  '\ufeffh1,h2,h3\r\n1e30,-0,a\r\n,NaN,b\r\n',
].map((s) => utf8.encode(s));
const YELP_SEEDS = [
  'label,text,id\n0,"good food",a1\n4,"bad \\"service\\"\\nreally",a2\n',
  '"5","Great \\""tacos\\"".\\nWould go again."\n"1","Cold, slow, rude."\n',
  'label,text\n',
  'text,label\n"x",3\n',
].map((s) => utf8.encode(s));
const cifarRecords = (n: number, label = 3) => {
  const b = new Uint8Array(n * CIFAR10_RECORD_BYTES);
  for (let r = 0; r < n; r++) b[r * CIFAR10_RECORD_BYTES] = (label + r) % 10;
  return b;
};
const CIFAR_SEEDS = [cifarRecords(1), cifarRecords(2), cifarRecords(1, 9)];

// ── properties ────────────────────────────────────────────────────────────
describe(`parser fuzzing (${RUNS} cases each, seed ${SEED}): only ChainzErrors`, () => {
  it('.npy: parseNpy, readNpy, readNpyHeader', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzBytes(NPY_SEEDS), fc.option(fc.record({ rowStart: fc.integer({ min: -1, max: 4 }), rowCount: fc.integer({ min: -1, max: 4 }) })), async (bytes, range) => {
        await onlyTyped(() => parseNpy(bytes, 'mem.npy'), 'parseNpy');
        const f = tmpFile('npy', bytes);
        await onlyTyped(() => readNpyHeader(f));
        await onlyTyped(() => readNpy(f, range ?? {}), 'readNpy');
      }),
      params,
    );
  });

  it('PTB trees: parsePtbTree, parseSst5Trees', async () => {
    const deep = fc.integer({ min: 1, max: 20_000 }).map((d) => utf8.encode('(2 '.repeat(d) + 'w' + ')'.repeat(d - (d % 3 === 0 ? 1 : 0))));
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: fuzzBytes(PTB_SEEDS) }, { weight: 1, arbitrary: deep }), fc.integer({ min: 0, max: 9 }), async (bytes, maxLabel) => {
        const s = text(bytes);
        await onlyTyped(() => parsePtbTree(s, { file: 'f.txt', row: 1 }, maxLabel), 'parsePtbTree');
        await onlyTyped(() => parseSst5Trees(`${s}\n${s}\n`, 'trees/train.txt', true));
      }),
      params,
    );
  });

  it('CSV: parseTabularCsv + encodeLabels', async () => {
    const sometimes = <T,>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });
    const opts = fc.record({
      labelColumn: sometimes(fc.oneof(fc.integer({ min: -4, max: 4 }), fc.constantFrom('label', 'b', 'x', ''))),
      header: sometimes(fc.constantFrom('auto' as const, true, false)),
      delimiter: sometimes(fc.constantFrom('auto', ',', ';', '\t', '', '""')),
      missing: fc.constantFrom<string[]>([], [''], ['', 'NA', '?']),
      expectedColumns: sometimes(fc.integer({ min: 0, max: 4 })),
    });
    await fc.assert(
      fc.asyncProperty(fuzzBytes(CSV_SEEDS), opts, fc.constantFrom('sorted' as const, 'first-seen' as const), async (bytes, o, labelOrder) => {
        await onlyTyped(() => encodeLabels(parseTabularCsv(text(bytes), { ...o, file: 'f.csv' }), { labelOrder, file: 'f.csv' }), 'parseTabularCsv');
      }),
      params,
    );
  });

  it('Yelp CSV: readYelpCsv', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzBytes(YELP_SEEDS), fc.option(fc.integer({ min: 1, max: 3 })), fc.boolean(), async (bytes, maxRows, unescape) => {
        const f = tmpFile('csv', bytes);
        await onlyTyped(() => readYelpCsv(f, { maxRows: maxRows ?? undefined, unescape }), 'readYelpCsv');
      }),
      params,
    );
  });

  it('CIFAR-10 binary: decodeCifar10Records, readCifar10Binary', async () => {
    const bytes = fc.oneof(
      fuzzBytes(CIFAR_SEEDS),
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: -3, max: 3 }), fc.integer({ min: 0, max: 255 })).map(([n, extra, label]) => {
        const b = cifarRecords(n);
        if (n > 0) b[0] = label;
        return b.subarray(0, Math.max(0, b.length + extra));
      }),
    );
    await fc.assert(
      fc.asyncProperty(bytes, fc.option(fc.record({ offset: fc.integer({ min: -1, max: 3 }), limit: fc.integer({ min: -1, max: 3 }) }, { requiredKeys: [] })), async (b, o) => {
        await onlyTyped(() => decodeCifar10Records(b, 'mem.bin'));
        const f = tmpFile('bin', b);
        await onlyTyped(() => readCifar10Binary(f, o ?? {}), 'readCifar10Binary');
      }),
      params,
    );
  });

  it('the harness itself catches an untyped error', async () => {
    await expect(onlyTyped(() => ([] as number[]).reduce((a, b) => a + b))).rejects.toThrow(/untyped TypeError/);
  });
});
