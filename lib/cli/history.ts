/**
 * `model-audit history`: the stored runs as series, their steps and the check of the latest run, as
 * a table, JSON or an HTML dashboard; with --check, exit 1 when a latest run is a regression.
 */
import { analyseHistory, historyRuleDefaults, type HistoryRule, type Series } from '../history/analysis.js';
import { historyDashboard } from '../history/dashboard.js';
import { metricLabel } from '../history/metrics.js';
import { openStore, type HistoryFilter } from '../history/store.js';
import { OptionsError } from '../errors.js';
import { formatPercent, formatValue } from '../units.js';
import { exitCodes } from './exit-codes.js';
import { writeAtomically } from './output.js';

/** The filter's own keys (model, runtime, machine, branch, metric, limit), and the command's. */
export interface HistoryFlags extends HistoryFilter {
  store?: string;
  minEffect?: number;
  minTailEffect?: number;
  json?: boolean;
  html?: string;
  check?: boolean;
}

/** The store a command uses: the flag, else MODEL_AUDIT_STORE. */
export function storeUrl(flag: string | undefined, required: boolean): string | undefined {
  const url = flag ?? (process.env.MODEL_AUDIT_STORE?.trim() || undefined);
  if (url === undefined && required) throw new OptionsError('no results store: give --store sqlite:PATH or --store postgres://USER@HOST/DB, or set MODEL_AUDIT_STORE', { option: '--store' });
  return url;
}

function filterWords(f: HistoryFilter): string {
  const parts = Object.entries(f).filter(([k, v]) => v !== undefined && k !== 'limit').map(([k, v]) => `${k} ${v}`);
  return parts.length ? `runs with ${parts.join(', ')}` : 'all runs';
}

function seriesTable(series: readonly Series[]): string {
  const lines = ['| model | runtime | machine | metric | runs | latest | against the runs before (median) | verdict | steps |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const s of series) {
    const last = s.points[s.points.length - 1]!;
    const l = s.latest.latestRun;
    const r = s.latest.recentRuns;
    const parts = [
      l.ratio === null ? null : `latest ${formatPercent(l.ratio - 1)} (${l.baselineRuns} runs)`,
      r.ratio === null ? null : `last ${r.runs} ${formatPercent(r.ratio - 1)} (p ${r.p!.toPrecision(2)})`,
    ].filter(Boolean);
    const against = parts.length ? parts.join('; ') : '–';
    const steps = s.changePoints.map((c) => `${formatPercent(c.relativeChange)} at ${c.gitCommit?.slice(0, 10) ?? c.createdAt.slice(0, 16)}`).join('; ') || '–';
    lines.push(`| ${s.modelName} | ${s.runtime} | ${s.machineLabel ?? s.cpuModel} (${s.machineId.slice(0, 8)}) | ${metricLabel(s.metric, s.inputClass)} | ${s.points.length} | ${formatValue(last.value, s.unit)} | ${against} | ${s.latest.verdict} | ${steps} |`);
  }
  return lines.join('\n');
}

export async function historyCommand(flags: HistoryFlags): Promise<number> {
  const { store: storeFlag, minEffect, minTailEffect, json, html, check, ...given } = flags;
  const url = storeUrl(storeFlag, true)!;
  const filter = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as HistoryFilter;
  const rule: HistoryRule = { ...historyRuleDefaults, ...(minEffect !== undefined ? { minEffect } : {}), ...(minTailEffect !== undefined ? { minTailEffect } : {}) };
  const store = await openStore(url);
  let series: Series[];
  try {
    series = analyseHistory(await store.points(filter), rule);
  } finally {
    await store.close();
  }
  const regressions = series.filter((s) => s.latest.verdict === 'regression');
  if (html) {
    writeAtomically(html, historyDashboard(series, { location: store.location, filter: filterWords(filter), generatedAt: new Date().toISOString() }));
  }
  if (json) {
    console.log(JSON.stringify({ kind: 'history', store: store.location, filter, rule, series, regression: regressions.length > 0 }, null, 2));
  } else if (series.length === 0) {
    console.log(`${store.location}: no runs match (${filterWords(filter)})`);
  } else {
    console.log(`${store.location}: ${filterWords(filter)}\n`);
    console.log(seriesTable(series));
    if (html) console.log(`\ndashboard: ${html}`);
    if (check) {
      console.log('');
      for (const s of regressions) console.log(`regression: ${s.modelName} ${s.runtime} ${metricLabel(s.metric, s.inputClass)} on ${s.machineLabel ?? s.machineId.slice(0, 8)}: ${s.latest.reason}`);
      console.log(regressions.length ? `${regressions.length} series regressed in their latest run` : 'no series regressed in its latest run');
    }
  }
  return check && regressions.length > 0 ? exitCodes.failed : exitCodes.ok;
}
