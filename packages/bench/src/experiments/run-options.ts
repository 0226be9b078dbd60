import type { ProgressMode } from '../progress';

/**
 * Options every `chainz bench <experiment>` run shares (CLI flags in brackets).
 * Each experiment's options interface extends this one.
 */
export interface ExperimentRunOptions {
  /** Results directory [--out DIR]; default `<cwd>/results/<experiment>/<timestamp>`. */
  out?: string;
  /** Continue an interrupted run in this directory [--resume DIR]; the run's options must match the recorded ones. */
  resume?: string;
  /** Progress display [--progress auto|bar|lines|none]; default `auto` (a bar on a terminal, lines otherwise). */
  progress?: ProgressMode;
  /** Name of the tfjs backend in use (recorded in results.json). */
  backend: string;
  /** Why other backends were skipped while resolving it (recorded in results.json). */
  backendNotes?: string[];
  /** Base directory of the default results path and of relative paths; default `process.cwd()`. */
  cwd?: string;
  /** Worker threads for the run's units [--workers N]; default min(4, cores) when the package is built, else 1. */
  workers?: number;
}
