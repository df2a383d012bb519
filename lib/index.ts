/**
 * model-audit: what a user needs to open a model, measure it, audit it, compare and report.
 * Statistics, codecs, tensors, the machine and test support are subpath exports:
 * model-audit/stats, /reference, /tensor, /system, /report, /testing.
 */
export { openModel, openModelSync, Model } from './model/model.js';
export type { ModelDescription, OpenTimings, OpenMemory } from './model/model.js';
export type { Outputs } from './model/calls.js';
export type { BoundRun } from './model/bound.js';
export type { OpenOptions, ResolvedOpenOptions, GraphOptimizationLevel } from './model/options.js';
export type { ModelSource } from './model/source.js';

export { benchmark } from './measure/benchmark.js';
export type { BenchmarkOptions, WarmupOptions, BenchmarkMemoryOptions, BenchmarkMemory, LatencyResult, LatencyPhases } from './measure/benchmark.js';
export type { InputOptions, InputDescription } from './inputs/feed-sets.js';
export type { MeasurementQuality, ClockQuality } from './measure/quality.js';
export { throughput } from './measure/throughput.js';
export type {
  ThroughputOptions,
  ClosedLoopOptions,
  OpenLoopOptions,
  RateSearchOptions,
  ClosedLoopResult,
  OpenLoopResult,
  RateSearchResult,
  RateSearchTrial,
  ConcurrencyLevelResult,
  StreamResult,
  ThroughputResultFor,
} from './measure/throughput.js';
export { inputSensitivity } from './measure/sensitivity.js';
export { profile } from './measure/profile.js';
export type { ProfileOptions, ProfileResult, NodeProfile, OpTypeProfile } from './measure/profile.js';
export type { SensitivityOptions, SensitivityResult, SensitivityClass, ClassLatency, DenormalFlushCheck } from './measure/sensitivity.js';
export { loadDataSet } from './inputs/dataset.js';
export type { DataSet, DataSource } from './inputs/dataset.js';
export type { ValueSource, ValueDistribution } from './inputs/values.js';
export type { SetLatency } from './measure/benchmark.js';
export { soak } from './measure/soak/soak.js';
export type { SoakOptions, SoakResult } from './measure/soak/soak.js';
export type { SoakWindow } from './measure/soak/window.js';
export type { SoakVerdicts, LeakVerdict, TrendVerdict, LeakThresholds } from './measure/soak/verdicts.js';

export { checkAccuracy } from './check/accuracy.js';
export type { AccuracyOptions, AccuracyResult, AccuracyCaseResult } from './check/accuracy.js';
export type { CaseOutcome } from './check/run-case.js';
export type { Tolerance, TensorComparison, ElementDifference } from './check/tensor-diff.js';
export { compareRuntimes } from './check/cross-runtime.js';
export type { CrossRuntimeOptions, CrossRuntimeResult } from './check/cross-runtime.js';
export { abnormalInputs } from './check/abnormal.js';
export type { AbnormalCaseKind, AbnormalClassification, AbnormalCaseResult, AbnormalInputsOptions, AbnormalInputsResult } from './check/abnormal.js';
export { constrainedRun } from './check/constrained.js';
export type { ConstrainedOptions, ConstrainedResult } from './check/constrained.js';

export { audit } from './audit/audit.js';
export type { AuditOptions, AuditProgress } from './audit/audit.js';
export { loadConfig } from './audit/config.js';
export type { AuditConfig, Budgets } from './audit/config.js';
export { evaluateBudgets, assertBudgets, BudgetError } from './audit/budgets.js';
export type { AuditReport, StepName, StepRecord, BudgetResult, Finding, FindingKind } from './report/json.js';

export { compareReports, readReport } from './compare/reports.js';
export { compareModels } from './compare/models.js';
export type { CompareModelsOptions, ModelComparison, PairedMetric } from './compare/models.js';
export type { CompareOptions, Comparison, MetricComparison, Verdict, OperatorChange } from './compare/reports.js';
export { toMarkdown } from './report/markdown.js';
export { toJUnit } from './report/junit.js';
export { toHtml } from './report/html.js';

export {
  ModelAuditError,
  ModelFormatError,
  ModelReadError,
  CorruptModelError,
  FeedError,
  RuntimeFailureError,
  RuntimeLibraryError,
  OptionsError,
  UnsupportedConfigurationError,
  ClosedModelError,
} from './errors.js';
export type { ErrorDetails, FeedMismatch } from './errors.js';

export type { Environment, CpuFacts } from './system/environment.js';
export type { RuntimeKind, RuntimeLibraryInfo, RuntimeInfoOptions } from './system/runtimes.js';
export type { AllocationCounters, MemoryPhase, PerInferenceMemory, ProcessMemory, MemorySnapshot } from './system/memory.js';
export type { DType, Tensor, TensorData, TypedArrayOf, FeedValue, Feeds, TensorSpec } from './tensor/tensor.js';
