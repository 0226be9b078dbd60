/**
 * Rows of other encoders from earlier runs, for a run with one encoder: the
 * latest completed run of the same experiment, protocol (encoder aside), data
 * and head settings that used another encoder. Shown beside ours, labelled
 * with the run's folder; never part of this run's results or statistics.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { UnitResult } from '../../results';

/** What a run needs to find comparable earlier runs. */
export interface EarlierRunQuery {
  /** Folder holding the runs (`results/<experiment>` or the parent of `--out`). */
  root: string;
  /** Folders to skip (this run's own). */
  exclude: string[];
  /** The run's identity name in results.json (`sst5`, `yelp`). */
  experiment: string;
  /** This run's protocol; `encoder` / `encoders` are ignored in the comparison. */
  protocol: Record<string, unknown>;
  /** sha256 of the data files (provenance). */
  dataSha256: string[];
  /** This run's encoder (short name): runs are only taken for the others. */
  encoder: string;
  /** This run's heads and their configurations: an earlier head is shown only with an identical configuration. */
  models: { name: string; config: Record<string, unknown> }[];
}

/** The units of one encoder in an earlier completed run. */
export interface EarlierEncoderRun {
  /** Encoder short name (e.g. `use-lite`). */
  encoder: string;
  /** Its id in that run (e.g. `use-lite:4c6db373cea2356e`). */
  encoderId: string;
  /** The run's results folder. */
  dir: string;
  /** When it finished: the end of its last session, else when its results.json was last written (ISO 8601). */
  finishedAt: string;
  /** Its units of that encoder, for the heads whose configuration equals this run's. */
  units: UnitResult[];
}

interface ResultsDoc {
  status?: string;
  experiment?: string;
  protocol?: Record<string, unknown>;
  data?: { provenance?: { sha256?: string[] }; encoder?: { key?: string; id?: string }; encoders?: { key?: string; id?: string }[] };
  models?: { name?: string; encoder?: string; config?: unknown }[];
  units?: (UnitResult & { encoder?: string })[];
  environment?: { sessions?: { startedAt?: string | null; wallSeconds?: number }[] };
}

/** When the run's last session ended (its start + wall time), else when results.json was last written. */
function finishedAt(doc: ResultsDoc, mtime: number): number {
  const last = doc.environment?.sessions?.at(-1);
  const start = last?.startedAt ? Date.parse(last.startedAt) : NaN;
  return Number.isFinite(start) && typeof last?.wallSeconds === 'number' ? start + 1000 * last.wallSeconds : mtime;
}

/** The protocol without the encoder fields. */
function withoutEncoder(p: Record<string, unknown> | undefined): string {
  const { encoder: _e, encoders: _es, ...rest } = p ?? {};
  return JSON.stringify(rest);
}

/**
 * The encoders of a results document with their ids: `data.encoder(s).key`
 * when recorded, else the id's prefix (`use-lite:…` → `use-lite`, `glove:…` → `glove`).
 */
function encodersOf(doc: ResultsDoc): { key: string; id: string; multi: boolean }[] {
  if (Array.isArray(doc.data?.encoders)) {
    return doc.data.encoders.filter((e) => typeof e.key === 'string' && typeof e.id === 'string').map((e) => ({ key: e.key!, id: e.id!, multi: true }));
  }
  const id = typeof doc.protocol?.encoder === 'string' ? doc.protocol.encoder : undefined;
  if (!id) return [];
  return [{ key: doc.data?.encoder?.key ?? id.split(':')[0], id, multi: false }];
}

/**
 * For each encoder other than the query's, the latest (by the end of its
 * last session, else results.json's modification time) completed run in `root` with the same experiment,
 * protocol apart from the encoder, data files and — head by head — the same
 * configuration. Unreadable or foreign folders are skipped silently.
 */
export function findEarlierEncoderRuns(q: EarlierRunQuery): EarlierEncoderRun[] {
  let names: string[];
  try {
    names = readdirSync(q.root);
  } catch {
    return [];
  }
  const exclude = new Set(q.exclude.map((d) => path.resolve(d)));
  const protocol = withoutEncoder(q.protocol);
  const configs = new Map(q.models.map((m) => [m.name, JSON.stringify(m.config)]));
  const best = new Map<string, EarlierEncoderRun & { mtime: number }>();
  for (const name of names) {
    const dir = path.resolve(q.root, name);
    if (exclude.has(dir)) continue;
    const file = path.join(dir, 'results.json');
    let doc: ResultsDoc;
    let mtime: number;
    try {
      mtime = statSync(file).mtimeMs;
      doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDoc;
    } catch {
      continue;
    }
    if (doc.status !== 'complete' || doc.experiment !== q.experiment || withoutEncoder(doc.protocol) !== protocol) continue;
    if (JSON.stringify(doc.data?.provenance?.sha256 ?? []) !== JSON.stringify(q.dataSha256)) continue;
    for (const enc of encodersOf(doc)) {
      if (enc.key === q.encoder) continue;
      const sameHeads = new Set(
        (doc.models ?? [])
          .filter((m) => typeof m.name === 'string' && (!enc.multi || m.encoder === enc.key) && configs.get(m.name) === JSON.stringify(m.config))
          .map((m) => m.name!),
      );
      const units = (doc.units ?? [])
        .filter((u) => sameHeads.has(u.model) && (!enc.multi || u.encoder === enc.key))
        .map(({ encoder: _drop, ...u }) => u as UnitResult);
      if (units.length === 0) continue;
      const prev = best.get(enc.key);
      const end = finishedAt(doc, mtime);
      if (!prev || end > prev.mtime) best.set(enc.key, { encoder: enc.key, encoderId: enc.id, dir, finishedAt: new Date(end).toISOString(), units, mtime: end });
    }
  }
  return [...best.values()].sort((a, b) => a.encoder.localeCompare(b.encoder)).map(({ mtime: _m, ...r }) => r);
}

/** Options of {@link earlierRunsFinder}. */
export interface EarlierRunsFinderOptions {
  /** The run's identity name (`sst5`, `yelp`); also the default folder `results/<experiment>`. */
  experiment: string;
  /** The command's `--out` and `--resume` folders, if given (earlier runs are looked for beside them). */
  out?: string;
  resume?: string;
  /** The user's working directory (where `results/<experiment>` is). */
  cwd: string;
  /** False: never look (several encoders in this run, or `--no-earlier-runs`). */
  enabled: boolean;
  /** As in {@link EarlierRunQuery}. */
  protocol: Record<string, unknown>;
  dataSha256: string[];
  encoder: string;
}

/**
 * A function giving the earlier runs for this run's heads, looked up once (at
 * its first call, i.e. the first report) with {@link findEarlierEncoderRuns};
 * always `[]` when `enabled` is false.
 */
export function earlierRunsFinder(o: EarlierRunsFinderOptions): (models: { name: string; config: Record<string, unknown> }[]) => EarlierEncoderRun[] {
  let earlier: EarlierEncoderRun[] | undefined;
  return (models) =>
    (earlier ??= !o.enabled
      ? []
      : findEarlierEncoderRuns({
          root: o.resume ? path.dirname(o.resume) : o.out ? path.dirname(o.out) : path.join(o.cwd, 'results', o.experiment),
          exclude: [o.resume, o.out].filter((d): d is string => typeof d === 'string'),
          experiment: o.experiment,
          protocol: o.protocol,
          dataSha256: o.dataSha256,
          encoder: o.encoder,
          models,
        }));
}
