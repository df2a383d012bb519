/**
 * model-audit/history: the results store (SQLite or PostgreSQL), the metrics it keeps per run,
 * and the analysis of a history: series, their steps, the check of the latest run, the dashboard.
 */
export { openStore, parseStoreUrl, redactStoreUrl, seriesKey } from './store.js';
export type { ResultStore, RecordedRun, HistoryFilter, StoredRun, HistoryPoint } from './store.js';
export { keyMetrics, metricRules, metricNames, metricLabel } from './metrics.js';
export type { MetricName, MetricRule, MetricRow } from './metrics.js';
export { runContext, machineFingerprint } from './context.js';
export type { RunContext, MachineFingerprint } from './context.js';
export { analyseHistory, changePoints, checkLatest, historyRuleDefaults } from './analysis.js';
export type { HistoryRule, Series, SeriesPoint, ChangePoint, LatestCheck } from './analysis.js';
export { historyDashboard } from './dashboard.js';
export { storeSchemaVersion } from './schema.js';
export { StoreError } from '../errors.js';
