/**
 * `model-audit compare`: a report against a baseline, as a table whose values, change and verdict
 * agree, with the statistic each row is judged on.
 */
import { compareReports, readReport, type Comparison } from '../compare/reports.js';
import { formatBytes, formatNs, formatPercent } from '../units.js';
import { exitCodes } from './exit-codes.js';

export interface CompareFlags {
  alpha: number;
  minEffect: number;
  minTailEffect: number;
  json?: boolean;
}

function value(v: number | null, unit: string): string {
  if (v === null) return '–';
  if (unit === 'ns') return formatNs(v);
  if (unit === 'bytes') return formatBytes(v);
  return `${Number(v.toPrecision(4))} ${unit}`;
}

export function comparisonTable(comparison: Comparison): string {
  const lines = ['| metric | statistic | baseline | current | change | 95 % CI of the change | verdict |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const m of comparison.metrics) {
    const change = m.ratio === null ? '–' : formatPercent(m.ratio - 1);
    const ci = m.ratioLow === null || m.ratioHigh === null ? '–' : `${formatPercent(m.ratioLow - 1)} to ${formatPercent(m.ratioHigh - 1)}`;
    lines.push(`| ${m.metric} | ${m.statistic} | ${value(m.baseline, m.unit)} | ${value(m.current, m.unit)} | ${change} | ${ci} | ${m.verdict} (${m.reason}) |`);
  }
  return lines.join('\n');
}

export function compareCommand(baselinePath: string, currentPath: string, flags: CompareFlags): number {
  const comparison = compareReports(readReport(baselinePath), readReport(currentPath), { alpha: flags.alpha, minEffect: flags.minEffect, minTailEffect: flags.minTailEffect });
  if (flags.json) {
    console.log(JSON.stringify(comparison, null, 2));
  } else {
    console.log(comparisonTable(comparison));
    for (const w of comparison.warnings) console.log(`warning: ${w}`);
    console.log(comparison.regression ? '\nregression' : '\nno regression');
  }
  return comparison.regression ? exitCodes.failed : exitCodes.ok;
}
