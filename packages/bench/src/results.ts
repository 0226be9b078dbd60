import { existsSync } from 'node:fs';
import path from 'node:path';
import { ChainzError } from '@chainz/core';
import { readJson, writeFileAtomically, writeJsonAtomically } from './io';

/** One (model, repeat, fold) evaluation. */
export interface UnitResult {
  model: string;
  repeat: number;
  fold: number;
  /** Test accuracy in [0, 1]. */
  accuracy: number;
  tau: number | null;
  trainSeconds: number;
  nTrain: number;
  nTest: number;
  info?: Record<string, number | string>;
}

/** Identity of a run, checked on `--resume` so a run is only continued with the same settings. */
export interface RunIdentity {
  experiment: string;
  /** JSON of everything that determines the numbers (protocol, data checksum, model configs). */
  fingerprint: string;
}

/**
 * A results directory: per-unit results kept in memory and flushed atomically
 * (results.json and summary.md rewritten through temp file + rename after
 * every unit), so a crash loses at most the unit in flight and `--resume DIR`
 * continues where it stopped.
 */
export class ResultsDir {
  private units = new Map<string, UnitResult>();

  private constructor(readonly dir: string, readonly identity: RunIdentity) {}

  /** Start a new directory; refuses to overwrite one holding results. */
  static async create(dir: string, identity: RunIdentity): Promise<ResultsDir> {
    if (existsSync(path.join(dir, 'results.json'))) {
      throw new ChainzError('E_RESUME', 'this directory already holds results; use --resume to continue it or choose another --out', { file: dir });
    }
    return new ResultsDir(dir, identity);
  }

  /** Re-open a directory written by an earlier (possibly crashed) run with the same settings. */
  static async resume(dir: string, identity: RunIdentity): Promise<ResultsDir> {
    const file = path.join(dir, 'results.json');
    if (!existsSync(file)) throw new ChainzError('E_RESUME', 'nothing to resume: no results.json here', { file: dir });
    const prev = await readJson<{ experiment?: string; fingerprint?: string; units?: UnitResult[] }>(file);
    if (prev.experiment !== identity.experiment) {
      throw new ChainzError('E_RESUME', `holds experiment '${prev.experiment}', not '${identity.experiment}'`, { file });
    }
    if (prev.fingerprint !== identity.fingerprint) {
      throw new ChainzError(
        'E_RESUME',
        'was written with different settings (protocol, data or model configuration); resuming would mix results',
        { file },
        'rerun with the same options as the original run, or start a new run without --resume',
      );
    }
    const r = new ResultsDir(dir, identity);
    for (const u of prev.units ?? []) r.units.set(key(u), u);
    return r;
  }

  has(model: string, repeat: number, fold: number): boolean {
    return this.units.has(key({ model, repeat, fold }));
  }

  all(): UnitResult[] {
    return [...this.units.values()];
  }

  get size(): number {
    return this.units.size;
  }

  add(u: UnitResult): void {
    this.units.set(key(u), u);
  }

  /** Write results.json (the given document plus identity and units) and summary.md atomically. */
  async flush(doc: Record<string, unknown>, summaryMarkdown: string): Promise<void> {
    await writeJsonAtomically(path.join(this.dir, 'results.json'), {
      ...doc,
      experiment: this.identity.experiment,
      fingerprint: this.identity.fingerprint,
      units: this.all().sort((a, b) => a.model.localeCompare(b.model) || a.repeat - b.repeat || a.fold - b.fold),
    });
    await writeFileAtomically(path.join(this.dir, 'summary.md'), summaryMarkdown);
  }
}

function key(u: { model: string; repeat: number; fold: number }): string {
  return `${u.model}\u0000${u.repeat}\u0000${u.fold}`;
}

/** `results/<experiment>/<timestamp>` under `base` (timestamp in UTC, filesystem-safe). */
export function defaultResultsDir(base: string, experiment: string, now = new Date()): string {
  const ts = now.toISOString().replace(/[:]/g, '-').replace(/\..+$/, 'Z');
  return path.join(base, 'results', experiment, ts);
}
