/**
 * The ten UCI tabular classification sets read by the built-in `uci/*`
 * adapters: counts, checksums and citations of the reference copies
 * (Debian's r-cran-mlbench 2.1-3-1 data sets exported to CSV with R's
 * `write.csv`; see docs/data.md). Counts were verified against the files.
 */

/** Names of the UCI adapters (= file stems under `<data dir>/uci/`). */
export const UCI_DATASET_NAMES = [
  'breast-cancer',
  'glass',
  'ionosphere',
  'sonar',
  'vehicle',
  'satellite',
  'vowel',
  'letter',
  'dna',
  'shuttle',
] as const;

/** One of {@link UCI_DATASET_NAMES}. */
export type UciDatasetName = (typeof UCI_DATASET_NAMES)[number];

/** What is known about one reference file. */
export interface UciDatasetSpec {
  name: UciDatasetName;
  /** Human-readable title for listings. */
  title: string;
  /** The mlbench data set it was exported from. */
  mlbench: string;
  /** sha256 of the reference CSV. */
  sha256: string;
  /** Data rows and feature columns of the reference CSV. */
  rows: number;
  features: number;
  /** Header names of the feature columns, in file order. */
  featureNames: readonly string[];
  /** Class values in class-index order (the `sorted` rule of the CSV readers), and rows per class. */
  classNames: readonly string[];
  classCounts: readonly number[];
  /** Missing (empty) feature cells in the reference CSV. */
  missingCells: number;
  /** The set's own citation (from its mlbench help page) and its UCI record. */
  citation: string;
  /** Facts a user of the set should know (encodings, quirks, protocol). */
  notes: readonly string[];
}

/** The UCI repository itself, cited by every set. */
export const UCI_REPOSITORY_CITATION =
  'Dua, D. & Graff, C. (2017). UCI Machine Learning Repository. University of California, Irvine, School of Information and Computer Sciences.';

/** `prefix1 … prefixN`. */
const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/** Specs of the ten sets, in suite order (smallest to largest, roughly). */
export const UCI_DATASETS: Readonly<Record<UciDatasetName, UciDatasetSpec>> = {
  'breast-cancer': {
    name: 'breast-cancer',
    title: 'Breast Cancer Wisconsin (Original) (699 × 9, 2 classes, 16 missing)',
    mlbench: 'BreastCancer',
    sha256: '8230cc7159c06b43b1daf7b19e3022b032ac93bf3153b54105a7092afd374f03',
    rows: 699,
    features: 9,
    featureNames: ['Cl_thickness', 'Cell_size', 'Cell_shape', 'Marg_adhesion', 'Epith_c_size', 'Bare_nuclei', 'Bl_cromatin', 'Normal_nucleoli', 'Mitoses'],
    classNames: ['benign', 'malignant'],
    classCounts: [458, 241],
    missingCells: 16,
    citation:
      'Wolberg, W. H. & Mangasarian, O. L. (1990). Multisurface method of pattern separation for medical diagnosis applied to breast cytology. Proceedings of the National Academy of Sciences 87, 9193-9196. Data: Breast Cancer Wisconsin (Original), UCI, doi:10.24432/C5HP4Z.',
    notes: [
      'the Id column is dropped; the nine features are ordinal scores 1-10 (ordered factors in mlbench, written as their numbers)',
    ],
  },
  glass: {
    name: 'glass',
    title: 'Glass Identification (214 × 9, 6 classes)',
    mlbench: 'Glass',
    sha256: 'edb229afdcb096cb6f65403b185ddc70b698d859938e6a17533a57d985bbcae2',
    rows: 214,
    features: 9,
    featureNames: ['RI', 'Na', 'Mg', 'Al', 'Si', 'K', 'Ca', 'Ba', 'Fe'],
    classNames: ['1', '2', '3', '5', '6', '7'],
    classCounts: [70, 76, 17, 13, 9, 29],
    missingCells: 0,
    citation:
      'German, B. (creator), Home Office Forensic Science Service, Aldermaston; donor Spiehler, V. Glass Identification, UCI, doi:10.24432/C5WW2P.',
    notes: ['classes are the glass type codes 1, 2, 3, 5, 6, 7 (code 4 has no examples); the smallest class has 9 rows'],
  },
  ionosphere: {
    name: 'ionosphere',
    title: 'Ionosphere radar returns (351 × 34, 2 classes)',
    mlbench: 'Ionosphere',
    sha256: '023e3073056ee9608b844c52629ef7b1dff29d6de5d980121f8f7f616ed15eb5',
    rows: 351,
    features: 34,
    featureNames: range('V', 34),
    classNames: ['bad', 'good'],
    classCounts: [126, 225],
    missingCells: 0,
    citation:
      'Sigillito, V. G., Wing, S. P., Hutton, L. V. & Baker, K. B. (1989). Classification of radar returns from the ionosphere using neural networks. Johns Hopkins APL Technical Digest 10, 262-266. Data: Ionosphere, UCI, doi:10.24432/C5W01B.',
    notes: ['V1 and V2 are nominal in mlbench (written as numbers); V2 is constant 0'],
  },
  sonar: {
    name: 'sonar',
    title: 'Sonar, mines vs. rocks (208 × 60, 2 classes)',
    mlbench: 'Sonar',
    sha256: '881da0ae2519d66e81755c65c993bee20e4a693e006d8fd156de5add7b455836',
    rows: 208,
    features: 60,
    featureNames: range('V', 60),
    classNames: ['M', 'R'],
    classCounts: [111, 97],
    missingCells: 0,
    citation:
      'Gorman, R. P. & Sejnowski, T. J. (1988). Analysis of hidden units in a layered network trained to classify sonar targets. Neural Networks 1, 75-89. Data: Connectionist Bench (Sonar, Mines vs. Rocks), UCI, doi:10.24432/C5T01Q.',
    notes: ['M = mine (metal cylinder), R = rock; each feature is the energy in one frequency band, in [0, 1]'],
  },
  vehicle: {
    name: 'vehicle',
    title: 'Vehicle silhouettes (846 × 18, 4 classes)',
    mlbench: 'Vehicle',
    sha256: '6b343ae4167e90872f21d9002e6b44fd32552a8e0b725776e65d81af03bfc7c4',
    rows: 846,
    features: 18,
    featureNames: ['Comp', 'Circ', 'D_Circ', 'Rad_Ra', 'Pr_Axis_Ra', 'Max_L_Ra', 'Scat_Ra', 'Elong', 'Pr_Axis_Rect', 'Max_L_Rect', 'Sc_Var_Maxis', 'Sc_Var_maxis', 'Ra_Gyr', 'Skew_Maxis', 'Skew_maxis', 'Kurt_maxis', 'Kurt_Maxis', 'Holl_Ra'],
    classNames: ['bus', 'opel', 'saab', 'van'],
    classCounts: [218, 212, 217, 199],
    missingCells: 0,
    citation:
      'Siebert, J. P. (1987). Vehicle recognition using rule based methods. Turing Institute Research Memorandum TIRM-87-018, Glasgow. Data: Statlog (Vehicle Silhouettes), UCI, doi:10.24432/C5HG6N.',
    notes: ['features extracted from silhouettes of four model vehicles; the two cars (opel, saab) are the hard pair'],
  },
  satellite: {
    name: 'satellite',
    title: 'Statlog Landsat satellite (6435 × 36, 6 classes)',
    mlbench: 'Satellite',
    sha256: 'ca3fd5a93f254e3efbce34b57adee0603839c7b7d0ca127c398f341203d16af9',
    rows: 6435,
    features: 36,
    featureNames: range('x_', 36),
    classNames: ['cotton crop', 'damp grey soil', 'grey soil', 'red soil', 'vegetation stubble', 'very damp grey soil'],
    classCounts: [703, 626, 1358, 1533, 707, 1508],
    missingCells: 0,
    citation:
      'Srinivasan, A. (donor), University of Strathclyde. Statlog (Landsat Satellite), UCI, doi:10.24432/C55887. (The mlbench help page cites no paper for this set.)',
    notes: [
      'four spectral bands of the 9 pixels of a 3×3 neighbourhood (features 17-20 are the centre pixel); mlbench pools the Statlog training and test files',
    ],
  },
  vowel: {
    name: 'vowel',
    title: 'Vowel recognition, Deterding data (990 × 10, 11 classes)',
    mlbench: 'Vowel',
    sha256: '81bea9440ab6747067287646640eb269136439b708c5459bcaf33709005a21fc',
    rows: 990,
    features: 10,
    featureNames: range('V', 10),
    classNames: ['hAd', 'hEd', 'hId', 'hOd', 'hUd', 'hYd', 'had', 'hed', 'hid', 'hod', 'hud'],
    classCounts: [90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90],
    missingCells: 0,
    citation:
      'Deterding, D. H. (1989). Speaker normalisation for automatic speech recognition. PhD thesis, University of Cambridge. Data: Connectionist Bench (Vowel Recognition - Deterding Data), UCI, doi:10.24432/C58P4S.',
    notes: [
      'V1 is the speaker (15 speakers × 66 rows, a factor in mlbench written as its code 0-14) and is read as a number; V2-V10 are LPC-derived log area ratios',
      'the original benchmark is speaker-independent (train and test speakers differ); stratified k-fold mixes speakers, an easier task',
    ],
  },
  letter: {
    name: 'letter',
    title: 'Letter recognition (20000 × 16, 26 classes)',
    mlbench: 'LetterRecognition',
    sha256: '2372b53d7fecc6d9faa9b428ef9f14c7f80d5cafb0d9e3846c784663a3b5ab67',
    rows: 20000,
    features: 16,
    featureNames: ['x_box', 'y_box', 'width', 'high', 'onpix', 'x_bar', 'y_bar', 'x2bar', 'y2bar', 'xybar', 'x2ybr', 'xy2br', 'x_ege', 'xegvy', 'y_ege', 'yegvx'],
    classNames: Array.from({ length: 26 }, (_, i) => String.fromCharCode(65 + i)),
    classCounts: [789, 766, 736, 805, 768, 775, 773, 734, 755, 747, 739, 761, 792, 783, 753, 803, 783, 758, 748, 796, 813, 764, 752, 787, 786, 734],
    missingCells: 0,
    citation:
      'Frey, P. W. & Slate, D. J. (1991). Letter recognition using Holland-style adaptive classifiers. Machine Learning 6(2). Data: Letter Recognition, UCI, doi:10.24432/C5ZP40.',
    notes: ['16 integer attributes 0-15 of distorted letter images from 20 fonts'],
  },
  dna: {
    name: 'dna',
    title: 'Primate splice-junction DNA, Statlog (3186 × 180 binary, 3 classes)',
    mlbench: 'DNA',
    sha256: 'b5f49dcb946b7711296ab7f07979dea0407e3b9eeaca4f4bc3d760c312fdffb6',
    rows: 3186,
    features: 180,
    featureNames: range('V', 180),
    classNames: ['ei', 'ie', 'n'],
    classCounts: [767, 765, 1654],
    missingCells: 0,
    citation:
      'Noordewier, M. O., Towell, G. G. & Shavlik, J. W. (1991). Training knowledge-based neural networks to recognize genes in DNA sequences. Advances in Neural Information Processing Systems 3. Data: UCI primate splice-junction gene sequences, Statlog version (R. King, University of Strathclyde).',
    notes: [
      '60 nucleotides, each as 3 binary indicators (A = 100, C = 010, G = 001, T = 000); ei = exon/intron boundary, ie = intron/exon, n = neither',
    ],
  },
  shuttle: {
    name: 'shuttle',
    title: 'Statlog shuttle (58000 × 9, 7 classes, very imbalanced)',
    mlbench: 'Shuttle',
    sha256: 'dc3315eb651d4227060d8428fe32fbc877e59fdfad14b73441939a85f38c8f2c',
    rows: 58000,
    features: 9,
    featureNames: range('V', 9),
    classNames: ['Bpv.Close', 'Bpv.Open', 'Bypass', 'Fpv.Close', 'Fpv.Open', 'High', 'Rad.Flow'],
    classCounts: [10, 13, 3267, 50, 171, 8903, 45586],
    missingCells: 0,
    citation: 'Catlett, J. (source), Basser Department of Computer Science, University of Sydney. Statlog (Shuttle), UCI, doi:10.24432/C5WS31. (The mlbench help page cites no paper for this set.)',
    notes: ['V1 is time; Rad.Flow is 78.6% of the rows and Bpv.Close has 10 rows (stratified folds with k > 10 leave it out of some test folds)'],
  },
};
