// A tiny synthetic experiment for the queue tests and scripts/queue-bench.mjs,
// as a plugin (no imports: workers load it with --plugin). Units are cheap and
// deterministic; `--unit-ms` makes each one last that long (`sleep`: the
// thread waits; `spin`: it computes), so a test can kill a worker mid-unit.
// Outputs mix typed arrays, NaN, -0 and float64 values so the queue's
// encoding is checked end to end. CHAINZ_QUEUE_TEST_VARIANT changes the
// models' configuration (another "version" of the code: a fingerprint mismatch).

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fnv(a) {
  let h = 0x811c9dc5;
  for (const v of a) h = Math.imul(h ^ v, 0x01000193) >>> 0;
  return h.toString(16);
}

async function hold(ms, mode) {
  if (ms <= 0) return;
  if (mode === 'spin') {
    const end = performance.now() + ms;
    let x = 0;
    while (performance.now() < end) for (let i = 0; i < 1e4; i++) x += Math.sqrt(i);
    return x;
  }
  await new Promise((r) => setTimeout(r, ms));
}

function model(name, scale, mo) {
  return {
    name,
    description: `synthetic model ${name}`,
    config: { scale, variant: process.env.CHAINZ_QUEUE_TEST_VARIANT ?? 'a' },
    async run(p, seed) {
      await hold(mo.unitMs ?? 0, mo.mode ?? 'sleep');
      const r = rng(seed ^ scale);
      const predictions = new Int32Array(p.y.length);
      let score = 0;
      for (let i = 0; i < p.y.length; i++) {
        const v = Math.fround(p.x[i] * scale + r());
        predictions[i] = v > 0.5 ? 1 : 0;
        score += v / 3;
      }
      return { predictions, score, extras: { nan: NaN, negZero: -0, big: Float64Array.of(score, 1 / 3, -Infinity) } };
    },
  };
}

/** `chainz bench queue-synth`: `--units N` cells × models `a`, `b`. */
export const queueSynth = {
  specificationVersion: 1,
  name: 'queue-synth',
  title: 'synthetic units for the job-queue tests and benchmark',
  flags: [
    { key: 'units', flag: '--units <n>', description: 'cells', kind: 'int', min: 1, max: 1000000, default: 4 },
    { key: 'rows', flag: '--rows <n>', description: 'rows per payload', kind: 'int', min: 1, max: 10000000, default: 16 },
    { key: 'unitMs', flag: '--unit-ms <ms>', description: 'how long each unit lasts', kind: 'int', min: 0, max: 600000, default: 0 },
    { key: 'mode', flag: '--mode <mode>', description: 'sleep or spin', kind: 'choice', choices: ['sleep', 'spin'], default: 'sleep' },
    { key: 'models', flag: '--models <list>', description: 'a, b', kind: 'list' },
  ],
  modelOptions: (o) => ({ unitMs: o.unitMs ?? 0, mode: o.mode ?? 'sleep' }),
  models: (mo) => [model('a', 3, mo), model('b', 5, mo)],
  async plan(o) {
    const units = o.units ?? 4;
    const rows = o.rows ?? 16;
    const cells = Array.from({ length: units }, (_, u) => ({
      key: { unit: u },
      seed: 1000 + u,
      payload: () => {
        const r = rng(u + 1);
        return { x: Float32Array.from({ length: rows }, () => r()), y: Int32Array.from({ length: rows }, () => (r() > 0.5 ? 1 : 0)) };
      },
    }));
    return {
      keyFields: ['unit'],
      cells,
      protocol: { units, rows },
      dataFingerprint: 'queue-synth-v1',
      data: { name: 'synthetic' },
      record: (out, p) => ({
        correct: out.predictions.reduce((s, v, i) => s + (v === p.y[i] ? 1 : 0), 0),
        // Short payloads keep their predictions; long ones a checksum (FNV-1a over the int32 values).
        predictions: out.predictions.length <= 64 ? Array.from(out.predictions) : fnv(out.predictions),
        score: out.score,
        nanIsNaN: Number.isNaN(out.extras.nan),
        negZero: Object.is(out.extras.negZero, -0),
        big: Array.from(out.extras.big, (v) => (Number.isFinite(v) ? v : String(v))),
      }),
      describe: (r) => `${r.model} unit ${r.unit}: ${r.correct} correct`,
      report: (records) => ({ terminal: `${records.length} units`, markdown: `${records.length} units\n`, doc: {} }),
    };
  },
};

export default { name: 'queue-test', experiments: [queueSynth] };
