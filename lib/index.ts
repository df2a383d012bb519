export { openModel, openModelSync, Model, checkFeeds } from './model.js';
export type { OpenOptions, ResolvedOpenOptions, GraphOptimizationLevel, ModelSource, OpenTimings, Outputs, ModelDescription, OpenMemory } from './model.js';
export type { BenchmarkOptions, WarmupOptions, LatencyResult, LatencyPhases, BenchmarkMemoryOptions, BenchmarkMemory } from './measure/benchmark.js';
export { runtimeMemory, processMemory } from './memory.js';
export type { AllocationCounters, MemoryPhase, PerInferenceMemory, ProcessMemory, MemorySnapshot, RuntimeMemory } from './memory.js';
export type { InputOptions, InputDescription } from './measure/inputs.js';
export type { MeasurementQuality, ClockQuality } from './measure/quality.js';
export { poissonArrivalsNs } from './measure/throughput.js';
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
export { summarize, percentileOfSorted, quantileIntervalRanks, sortedCopy } from './stats/summary.js';
export type { LatencySummary, QuantileInterval } from './stats/summary.js';
export { environment, allowedCpus, harnessInfo } from './environment.js';
export type { Environment, CpuFacts, HarnessInfo } from './environment.js';
export { runtimeInfo, resolveLibraryPath, packagedLibraryPath, runtimeLibraryEnv } from './runtimes.js';
export type { RuntimeKind, RuntimeLibraryInfo, RuntimeInfoOptions } from './runtimes.js';
export { detectFormat } from './format.js';
export type { DetectedFormat } from './format.js';
export {
  dtypes,
  synthesizeTensor,
  SeededRandom,
  toFloat16Bits,
  fromFloat16Bits,
  elementCount,
  bytesPerElement,
} from './tensor.js';
export type { DType, Tensor, TensorData, TypedArrayOf, FeedValue, Feeds, TensorSpec, SynthesisRange } from './tensor.js';
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
export { abnormalInputs, abnormalCatalogue, abnormalCaseKinds } from './audit/abnormal.js';
export type {
  AbnormalCaseKind,
  AbnormalClassification,
  AbnormalCaseResult,
  AbnormalInputsOptions,
  AbnormalInputsResult,
} from './audit/abnormal.js';
export { checkAccuracy, runOnnxConformance, compareRuntimes, defaultConformanceRoot } from './audit/accuracy.js';
export type {
  AccuracyOptions,
  AccuracyResult,
  AccuracyCaseResult,
  ConformanceOptions,
  ConformanceReport,
  ConformanceCaseResult,
  CrossRuntimeOptions,
  CrossRuntimeResult,
} from './audit/accuracy.js';
export { compareTensors } from './audit/compare.js';
export type { Tolerance, TensorComparison, ElementDifference } from './audit/compare.js';
export type { CaseOutcome } from './audit/cases.js';
export { constrainedRun } from './audit/constrained.js';
export type { ConstrainedOptions, ConstrainedResult } from './audit/constrained.js';
export { runIsolated } from './isolate/run.js';
export type { ItemOutcome, IsolatedRun, IsolationOptions } from './isolate/run.js';
export type { Constraints, AppliedConstraints, ModelSpec, SerializedError } from './isolate/protocol.js';
export { loadOnnxTestData, loadJsonCases, readNpy } from './reference/cases.js';
export type { ReferenceCase, UnreadableCase } from './reference/cases.js';
export { decodeNpy, encodeNpy } from './reference/npy.js';
export { decodeTensorProto } from './reference/tensorproto.js';
export { theilSen, mannKendall, mannWhitney, findSteps, normalCdf } from './stats/trend.js';
export type { TheilSen, MannKendall, MannWhitney, Step, StepOptions } from './stats/trend.js';
export { soak, soakVerdicts, readSoakFile } from './soak/soak.js';
export type { SoakOptions, SoakWindow, SoakResult, SoakVerdicts, LeakVerdict, TrendVerdict } from './soak/soak.js';
export { buildOnnxModel } from './onnx/writer.js';
export type { GraphSpec, NodeSpec, ValueSpec, Initializer, AttributeValue } from './onnx/writer.js';
export { demoModel } from './onnx/demo.js';
export { audit, plannedSteps, packageVersion } from './audit/audit.js';
export type { AuditOptions, AuditProgress } from './audit/audit.js';
export { loadConfig, validateConfig, defaultSteps } from './audit/config.js';
export type { AuditConfig, Budgets } from './audit/config.js';
export { evaluateBudgets, assertBudgets, BudgetError } from './audit/budgets.js';
export { toJsonSafe, reportSchemaVersion, stepNames } from './report/json.js';
export type { AuditReport, StepName, StepRecord, BudgetResult } from './report/json.js';
export { toMarkdown } from './report/markdown.js';
export { toJUnit } from './report/junit.js';
export { toHtml } from './report/html.js';
export { readSchema, schemaDir } from './report/schema.js';
export { compareReports, readReport } from './compare/compare.js';
export type { CompareOptions, Comparison, MetricComparison, Verdict } from './compare/compare.js';
