import { ConfigError } from '@chainz/core';
import { mean, sum } from 'd3-array';

/**
 * Accuracies of one model on a corruption benchmark such as CIFAR-10-C
 * (Hendrycks & Dietterich 2019). All accuracies are fractions in [0, 1].
 */
export interface CorruptionAccuracy {
  /** Accuracy on the uncorrupted test set. */
  clean: number;
  /**
   * Accuracy per corruption, indexed by severity: `corruptions.fog[s - 1]` is
   * the accuracy at severity s. Every corruption must list the same number of
   * severities (5 in CIFAR-10-C).
   */
  corruptions: Record<string, ArrayLike<number>>;
}

/** What {@link corruptionAccuracy} returns. */
export interface CorruptionAccuracySummary {
  /** The clean accuracy, copied for convenience. */
  clean: number;
  /** Mean corruption accuracy: mean over every (corruption, severity) pair. */
  mCA: number;
  /** mCA / clean: the share of clean accuracy kept under corruption. */
  relativeMCA: number;
  /** Mean over severities, per corruption. */
  perCorruption: Record<string, number>;
  /** Mean over corruptions, per severity (index s − 1). */
  perSeverity: number[];
}

/** What {@link corruptionErrors} returns (fractions: 1 = same as the baseline). */
export interface CorruptionErrorSummary {
  /** CE_c = Σ_s E_{s,c} / Σ_s E^base_{s,c}, per corruption c. */
  ce: Record<string, number>;
  /** mCE: mean of CE_c over corruptions. */
  mCE: number;
  /** Relative CE_c = Σ_s (E_{s,c} − E_clean) / Σ_s (E^base_{s,c} − E^base_clean). */
  relativeCE: Record<string, number>;
  /** Relative mCE: mean of relative CE_c over corruptions. */
  relativeMCE: number;
}

function checkAccuracy(v: number, what: string): void {
  if (!(Number.isFinite(v) && v >= 0 && v <= 1)) {
    throw new ConfigError(`${what} is ${v}; accuracies must be fractions in [0, 1]`, { option: what });
  }
}

/** Validates `acc` and returns its corruption names (sorted) and severity count. */
function validate(acc: CorruptionAccuracy, who: string): { names: string[]; severities: number } {
  checkAccuracy(acc.clean, `${who}.clean`);
  const names = Object.keys(acc.corruptions ?? {}).sort();
  if (names.length === 0) throw new ConfigError(`${who} lists no corruption`, { option: `${who}.corruptions` });
  const severities = acc.corruptions[names[0]].length;
  for (const c of names) {
    const a = acc.corruptions[c];
    if (a.length === 0 || a.length !== severities) {
      throw new ConfigError(
        `corruption '${c}' has ${a.length} severities, expected ${severities} like '${names[0]}' (every corruption needs the same severities, at least one)`,
        { option: `${who}.corruptions.${c}` },
      );
    }
    for (let s = 0; s < a.length; s++) checkAccuracy(a[s], `${who}.corruptions.${c}[${s}]`);
  }
  return { names, severities };
}

/**
 * Mean corruption accuracy (mCA), its ratio to the clean accuracy, and the
 * means per corruption and per severity (docs/metrics.md; Hendrycks & Dietterich 2019).
 *
 *   mCA = (1 / (C·S)) Σ_c Σ_s A_{s,c},   relative mCA = mCA / A_clean
 *
 * @param acc the model's accuracies (fractions in [0, 1]).
 * @returns the summary; `relativeMCA` is `NaN` when the clean accuracy is 0.
 * @throws ConfigError for no corruptions, unequal severity counts or an
 *   accuracy outside [0, 1] (the option path names the value at fault).
 */
export function corruptionAccuracy(acc: CorruptionAccuracy): CorruptionAccuracySummary {
  const { names, severities } = validate(acc, 'model');
  const perCorruption: Record<string, number> = {};
  for (const c of names) perCorruption[c] = mean(Array.from(acc.corruptions[c])) as number;
  const perSeverity = Array.from({ length: severities }, (_, s) => mean(names.map((c) => acc.corruptions[c][s])) as number);
  const mCA = mean(names.map((c) => perCorruption[c])) as number;
  return { clean: acc.clean, mCA, relativeMCA: acc.clean === 0 ? Number.NaN : mCA / acc.clean, perCorruption, perSeverity };
}

/**
 * Corruption Error normalised by a baseline model (Hendrycks & Dietterich
 * 2019, eqs. for CE and relative CE), with errors E = 1 − accuracy:
 *
 *   CE_c = Σ_s E_{s,c} / Σ_s E^base_{s,c}
 *   relative CE_c = Σ_s (E_{s,c} − E_clean) / Σ_s (E^base_{s,c} − E^base_clean)
 *
 * mCE and relative mCE are their means over corruptions. Values are ratios
 * (the paper prints them ×100 as %; the baseline itself scores 1). The paper
 * uses AlexNet as the baseline; here the caller chooses it (e.g. the ReLU MLP).
 *
 * @param model accuracies of the model being scored.
 * @param baseline accuracies of the baseline, with the same corruption names
 *   and severity count.
 * @returns CE, mCE, relative CE and relative mCE. A ratio whose denominator
 *   is 0 (the baseline makes no error on a corruption, or loses nothing to it
 *   for the relative CE) is `NaN`, and so is the mean over it. A negative
 *   relative CE means the model is more accurate under that corruption than clean.
 * @throws ConfigError for invalid accuracies or mismatched corruptions/severities.
 */
export function corruptionErrors(model: CorruptionAccuracy, baseline: CorruptionAccuracy): CorruptionErrorSummary {
  const m = validate(model, 'model');
  const b = validate(baseline, 'baseline');
  const missing = m.names.filter((c) => !b.names.includes(c));
  const extra = b.names.filter((c) => !m.names.includes(c));
  if (missing.length > 0 || extra.length > 0) {
    throw new ConfigError(
      `model and baseline must cover the same corruptions; only in model: ${missing.join(', ') || '-'}; only in baseline: ${extra.join(', ') || '-'}`,
      { option: 'baseline.corruptions' },
    );
  }
  if (m.severities !== b.severities) {
    throw new ConfigError(`model has ${m.severities} severities per corruption, baseline ${b.severities}`, { option: 'baseline.corruptions' });
  }
  const ratio = (num: number, den: number) => (den === 0 ? Number.NaN : num / den);
  const ce: Record<string, number> = {};
  const relativeCE: Record<string, number> = {};
  const errModelClean = 1 - model.clean;
  const errBaseClean = 1 - baseline.clean;
  for (const c of m.names) {
    const em = Array.from(model.corruptions[c], (a) => 1 - a);
    const eb = Array.from(baseline.corruptions[c], (a) => 1 - a);
    ce[c] = ratio(sum(em), sum(eb));
    relativeCE[c] = ratio(sum(em, (e) => e - errModelClean), sum(eb, (e) => e - errBaseClean));
  }
  // d3's mean skips NaN: an undefined CE_c must make the mean undefined too.
  const meanOrNaN = (v: number[]) => (v.some(Number.isNaN) ? Number.NaN : (mean(v) as number));
  return {
    ce,
    mCE: meanOrNaN(m.names.map((c) => ce[c])),
    relativeCE,
    relativeMCE: meanOrNaN(m.names.map((c) => relativeCE[c])),
  };
}
