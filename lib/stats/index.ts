/**
 * model-audit/stats: the statistics the measurements and verdicts use, exact and checked against
 * naive references: percentiles with order-statistic intervals, trend and rank tests, steps, and
 * the Poisson arrival schedule of open-loop throughput.
 */
export { summarize, percentileOfSorted, quantileIntervalRanks, sortedCopy } from './summary.js';
export type { LatencySummary, QuantileInterval } from './summary.js';
export { theilSen, mannKendall, mannWhitney, findSteps, normalCdf } from './trend.js';
export type { TheilSen, MannKendall, MannWhitney, Step, StepOptions } from './trend.js';
export { blockQuantiles } from '../compare/reports.js';
export { judgeAgainstFastest, judgeChange, judgePairedChange, ratioInterval, signedRank } from './change.js';
export type { Change, ChangeOptions, FastestJudgement } from './change.js';
export { groupQuantiles, trimmedMean } from './summary.js';
export { poissonArrivalsNs } from '../measure/throughput.js';
