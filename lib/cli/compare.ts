/**
 * `model-audit compare`: a report against a baseline, as a table whose values, change and verdict
 * agree, with the statistic each row is judged on.
 */
import { compareModels } from '../compare/models.js';
import { compareReports, readReport, type Comparison } from '../compare/reports.js';
import { openModel, type Model } from '../model/model.js';
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
    if (comparison.operators?.length) {
      console.log('\nWhere the change came from (profiled time per run, by operator type):\n');
      console.log('| operator type | baseline | current | change | share of the change |\n| --- | --- | --- | --- | --- |');
      for (const o of comparison.operators.slice(0, 10)) {
        console.log(`| ${o.opType} | ${formatNs(o.baselineNsPerRun)} | ${formatNs(o.currentNsPerRun)} | ${o.changeNs >= 0 ? '+' : '−'}${formatNs(Math.abs(o.changeNs))} | ${(o.shareOfChange * 100).toFixed(0)} % |`);
      }
    }
    for (const w of comparison.warnings) console.log(`warning: ${w}`);
    console.log(comparison.regression ? '\nregression' : '\nno regression');
  }
  return comparison.regression ? exitCodes.failed : exitCodes.ok;
}

export interface CompareModelsFlags {
  rounds: number;
  roundMs: number;
  cpu?: number;
  threads?: number;
  shape?: Record<string, number[]>;
  input?: Record<string, string>;
  samples?: number;
  alpha: number;
  minEffect: number;
  minTailEffect: number;
  json?: boolean;
}

/** `model-audit compare-models BASELINE CANDIDATE`: the A/B comparison, as a table; exit 1 when the candidate is slower. */
export async function compareModelsCommand(baselinePath: string, candidatePath: string, flags: CompareModelsFlags): Promise<number> {
  const open = flags.threads !== undefined ? { intraOpThreads: flags.threads } : {};
  const models: Model[] = [];
  try {
    models.push(await openModel(baselinePath, open));
    models.push(await openModel(candidatePath, open));
    const c = await compareModels(models[0]!, models[1]!, {
      rounds: flags.rounds,
      roundMs: flags.roundMs,
      ...(flags.cpu !== undefined ? { cpu: flags.cpu } : {}),
      ...(flags.shape ? { shapes: flags.shape } : {}),
      ...(flags.input ? { values: flags.input } : {}),
      ...(flags.samples !== undefined ? { samples: flags.samples } : {}),
      alpha: flags.alpha,
      minEffect: flags.minEffect,
      minTailEffect: flags.minTailEffect,
    });
    if (flags.json) {
      console.log(JSON.stringify(c, null, 2));
    } else {
      console.log(`baseline:  ${baselinePath}\ncandidate: ${candidatePath}\n`);
      console.log('| metric | statistic | baseline | candidate | change (median of per-round ratios) | 95 % CI | verdict |');
      console.log('| --- | --- | --- | --- | --- | --- | --- |');
      for (const m of c.metrics) {
        console.log(
          `| ${m.metric} | median of ${c.rule.rounds} per-round p${m.metric.endsWith('p50') ? 50 : 99}s | ${formatNs(m.baselineNs)} | ${formatNs(m.candidateNs)} | ${formatPercent(m.change.ratio - 1)} | ${formatPercent(m.change.low - 1)} to ${formatPercent(m.change.high - 1)} | ${m.verdict} (${m.reason}) |`,
        );
      }
      for (const w of c.warnings) console.log(`warning: ${w}`);
      console.log(`\n${c.statement}`);
    }
    return c.regression ? exitCodes.failed : exitCodes.ok;
  } finally {
    for (const m of models) m.close();
  }
}
