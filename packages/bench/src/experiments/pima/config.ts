import type { PaperFigure } from '../common/model-summary';

/** The paper's reported figure (arXiv 2605.24340): ChainzRule on Pima; the protocol is not stated. */
export const PIMA_PAPER: PaperFigure = {
  model: 'ChainzRule (protocol not stated)',
  accuracyMean: 85.71,
  accuracyStd: 2.01,
  protocol: 'not stated in the paper',
  source: 'arXiv 2605.24340, abstract',
  tau: '1.01–1.02 (claimed, all tasks)',
};

/** Reference points from the literature, for the README (not measured here). */
export const PIMA_ANCHORS = 'LR ≈ 77%, SVM-RBF ≈ 75%, majority 65.1%';
