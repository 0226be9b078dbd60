/**
 * @chainz/bench — the experiment runner, the experiment contract and the
 * registries behind the `chainz` CLI, plus the built-in experiments and their
 * models. Plugin authors: `defineExperiment` + `registerExperiment` (or a
 * plugin module's `experiments`), and `runExperiment` to run one from code.
 */
// The runner and the experiment contract
export { runExperiment, resolveResultsDir, selectModels, environmentLine, experimentFingerprint, ExperimentUnitError, type RunOptions, type ExperimentRun, type FingerprintParts } from './runner/run';
export {
  defineExperiment,
  EXPERIMENT_SPEC_VERSION,
  type Experiment,
  type ExperimentPlan,
  type ExperimentReport,
  type Cell,
  type CellKey,
  type UnitModel,
  type UnitRecord,
  type PlanContext,
  type ReportContext,
  type Json,
  type JsonObject,
} from './runner/contract';
export { COMMON_FLAGS, RUN_FLAGS, SEED_MAX, modelsFlag, parseFlagValue, validateOptions, flagName, type FlagSpec, type FlagKind } from './runner/flags';
export { inProcessExecutor, workerExecutor, defaultWorkers, resolveWorkers, runWithModel, type UnitExecutor, type UnitTask, type WorkerTask, type TaskIdentity } from './runner/executor';
// Registries and plugins
export { registerExperiment, getExperiment, hasExperiment, listExperiments, experimentSource, describeSource, type RegistrySource } from './runner/registry';
export { loadPlugins, findChainzConfig, resolvePluginSpec, adapterSource, PluginError, type ChainzPlugin, type LoadedPlugin, type ChainzConfigFile } from './runner/plugins';
// The built-in experiments
export { BUILTIN_EXPERIMENTS, registerBuiltinExperiments } from './experiments';
export { pimaExperiment, describePimaData, PIMA_MODEL_NAMES, type PimaOptions } from './experiments/pima';
export { PIMA_PAPER } from './experiments/pima/config';
export { tabularExperiment, tabularCvExperiment, loadTabularSource, TABULAR_MODEL_NAMES, type TabularOptions, type TabularSource, type TabularVariant } from './experiments/tabular';
export { TABULAR_MODELS, TABULAR_TRAINING, TABULAR_SVM, TABULAR_XGBOOST } from './experiments/tabular/config';
export { buildTabularModels } from './experiments/tabular/models';
export { sst5Experiment, SST5_MODEL_NAMES, type Sst5Options } from './experiments/sst5';
export { yelpExperiment, YELP_MODEL_NAMES, type YelpOptions } from './experiments/yelp';
export { efficiencyExperiment, parseFractions, EFFICIENCY_MODEL_NAMES, type EfficiencyOptions, type EfficiencyCell } from './experiments/efficiency';
export { cifar10cExperiment, CIFAR10C_MODEL_NAMES, type Cifar10cOptions } from './experiments/cifar10c';
export { unitSeed, prepareFold, tabularMatrix, foldRecord, type FoldRecord, type TabularMatrix } from './experiments/common/tabular';
export { summarize, compareModels, renderTable, type ModelSummary, type Comparison, type PaperFigure } from './experiments/common/model-summary';
// Models (building blocks for experiments)
export * from './models/types';
export { Mlp, mlpModel, trainMlp, trainMlpAsync, effectiveEpochs, type MlpConfig, type MlpActivation, type MlpHead } from './models/mlp';
export { svmRbfModel, DEFAULT_SVM_CONFIG, type SvmConfig } from './models/svm';
export { xgboostModel, DEFAULT_XGBOOST_CONFIG, type XgboostConfig } from './models/xgboost';
export { majorityModel } from './models/majority';
export { Cnn, type CnnConfig, type CnnConvSpec } from './models/cnn';
export { trainClassifier, predictClasses, meanCrossEntropy, type TrainableClassifier, type TrainOptions, type ClassifierTrainStats } from './models/train';
export { cumulativeLogits, ordinalLevels, ordinalLoss, ordinalPredict, ordinalClassProbabilities, ORDINAL_HEAD_EQUATION } from './models/ordinal';
// Results folders, output and the performance benchmark
export { ResultsDir, defaultResultsDir, formatWallTime, type UnitResult, type RunTime } from './results';
export { createProgress, type Progress, type ProgressMode } from './progress';
export { collectEnvironment, type EnvironmentInfo } from './env';
export { writeFileAtomically, writeJsonAtomically } from './io';
export { renderVegaLiteSvg, writeVegaLiteSvg } from './plots';
export { runPerfBench, renderPerfTables, resolveClock, PERF_SHAPES, PERF_RATIOS, PERF_TARGETS, type PerfOptions, type PerfReport, type PerfClock, type ShapeResult, type VariantTiming } from './perf/perf';
export { mlpVariant, plainVariant, makeBatch, type PerfShape, type PerfVariant, type PerfBatch } from './perf/variants';
