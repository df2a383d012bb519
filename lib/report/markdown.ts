/**
 * A Markdown summary of an audit report, short enough for a pull-request comment. The headline
 * keeps budgets (passed, failed, not set) apart from findings (crashes, hangs, non-finite outputs,
 * leaks, drift), so a finding is never hidden behind a "passed".
 */
import { formatShape } from '../tensor/tensor.js';
import { formatBytes, formatNs, formatValue } from '../units.js';
import type { AuditReport, BudgetResult } from './json.js';

/** The budgets' part of the headline: "budgets passed (3 of 3)", "budgets FAILED (1 of 3)", "no budgets set". */
export function budgetsHeadline(budgets: readonly BudgetResult[]): string {
  if (budgets.length === 0) return 'no budgets set';
  const failed = budgets.filter((b) => b.status === 'failed').length;
  const unmeasured = budgets.filter((b) => b.status === 'not-measured').length;
  const passed = budgets.length - failed - unmeasured;
  if (failed > 0) return `budgets FAILED (${failed} of ${budgets.length} failed${unmeasured ? `, ${unmeasured} not measured` : ''})`;
  if (unmeasured > 0) return `budgets not all measured (${passed} passed, ${unmeasured} not measured, of ${budgets.length})`;
  return `budgets passed (${passed} of ${budgets.length})`;
}

/** The findings' part of the headline: "no findings", "2 findings: crash, leak". */
export function findingsHeadline(report: Pick<AuditReport, 'findings'>): string {
  const findings = report.findings ?? [];
  if (findings.length === 0) return 'no findings';
  const kinds = [...new Set(findings.map((f) => f.kind))];
  return `${findings.length} finding${findings.length > 1 ? 's' : ''}: ${kinds.join(', ')}`;
}

export function budgetStatusWord(b: BudgetResult): string {
  const status = b.status ?? (b.passed ? 'passed' : 'failed');
  return status === 'passed' ? 'passed' : status === 'failed' ? 'FAILED' : 'not measured';
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export function toMarkdown(report: AuditReport): string {
  const lines: string[] = [];
  const model = report.model;
  const name = model.path ? model.path.split('/').pop() : `${model.runtime} model`;
  const runtime = report.environment.runtimes[0];
  lines.push(`## model-audit — ${name}: ${budgetsHeadline(report.budgets)} · ${findingsHeadline(report)}`);
  lines.push('');
  if (report.complete === false) {
    lines.push(`**Incomplete**: the report was written after ${Object.keys(report.steps).length} step(s); the audit did not reach its end.`, '');
  }
  lines.push(
    `${model.runtime === 'onnx' ? 'ONNX Runtime' : 'TFLite'} ${runtime?.version ?? ''} · ${report.environment.cpu.model} · ${report.environment.cpu.logicalCpus} CPUs · Linux ${report.environment.os.kernel} · Node ${report.environment.node.version} · model-audit ${report.tool.version}`,
  );
  lines.push('');
  if (report.inputs) {
    const i = report.inputs as any;
    const shapes = Object.entries(report.inputs.shapes).map(([input, shape]) => {
      const chosen = report.inputs.chosen[input];
      const how = chosen?.length ? ` (chosen by model-audit: ${chosen.map((d) => `axis ${d.axis} ${d.how === 'default' ? '= 1 by default' : `= ${d.size}, probed`}`).join(', ')})` : '';
      const values = i.values?.[input] ? ` ${i.values[input]}` : '';
      return `\`${input}\` ${formatShape(shape)}${values}${how}`;
    });
    const source = i.data ? `data set ${i.data}` : `seeded (seed ${i.seed})`;
    const sets = i.sets > 1 ? `; ${i.sets} feed sets, ${i.order}` : '';
    lines.push(`Inputs: ${source}${sets}; ${shapes.join('; ')}${i.shapesVary ? ' (shapes vary between feed sets)' : ''}`, '');
  }
  if (report.budgets.length > 0) {
    lines.push('| budget | measured | result |', '| --- | --- | --- |');
    for (const b of report.budgets) lines.push(`| ${b.description} | ${formatValue(b.actual, b.unit)} | ${budgetStatusWord(b)}${b.reason ? `: ${b.reason}` : ''} |`);
    lines.push('');
  }
  const findings = report.findings ?? [];
  if (findings.length > 0) {
    lines.push('**Findings**', '');
    for (const f of findings) lines.push(`- **${f.kind}** (${f.step}): ${f.summary}`);
    lines.push('');
  }
  const steps = report.steps;
  const latency = steps.latency?.result as any;
  if (latency?.summary) {
    const s = latency.summary;
    lines.push('**Latency**', '', '| p50 | p90 | p99 | p99.9 | max | inferences/s | samples |', '| --- | --- | --- | --- | --- | --- | --- |');
    lines.push(`| ${formatNs(s.p50Ns)} | ${formatNs(s.p90Ns)} | ${formatNs(s.p99Ns)} | ${formatNs(s.p999Ns)} | ${formatNs(s.maxNs)} | ${Math.round(s.inferencesPerSecond)} | ${s.count} |`);
    lines.push('');
    const warnings: string[] = latency.quality?.warnings ?? [];
    if (warnings.length) lines.push(...warnings.map((w) => `> warning: ${w}`), '');
  }
  const throughput = steps.throughput?.result as any;
  if (throughput?.levels?.length) {
    lines.push('**Throughput (closed loop)**', '', '| streams | inferences/s | p50 | p99 |', '| --- | --- | --- | --- |');
    for (const l of throughput.levels) lines.push(`| ${l.concurrency} | ${Math.round(l.inferencesPerSecond)} | ${formatNs(l.latency.p50Ns)} | ${formatNs(l.latency.p99Ns)} |`);
    lines.push('');
    const warnings: string[] = throughput.warnings ?? [];
    if (warnings.length) lines.push(...warnings.map((w) => `> warning: ${w}`), '');
  }
  const perSet = latency?.perSet as { set: number; p50Ns: number }[] | null | undefined;
  if (perSet?.length && latency.slowestSets?.length) {
    const byIndex = new Map(perSet.map((p) => [p.set, p]));
    lines.push(`Slowest feed sets (p50): ${latency.slowestSets.map((s: number) => `#${s} ${formatNs(byIndex.get(s)?.p50Ns)}`).join(', ')}; fastest ${formatNs(Math.min(...perSet.map((p) => p.p50Ns)))}`, '');
  }
  const sensitivity = steps.sensitivity?.result as any;
  if (sensitivity?.classes) {
    lines.push(`**Input sensitivity**: ${sensitivity.sensitive ? 'sensitive' : 'not sensitive'}. ${sensitivity.statement}`, '');
    lines.push('| input class | p50 | p99 | 10 % trimmed mean | against the fastest | verdict |', '| --- | --- | --- | --- | --- | --- |');
    for (const c of sensitivity.classes) {
      const verdict = c.change === null ? 'fastest' : c.slower ? `slower (p = ${c.change.p.toExponential(1)})` : `not slower (${c.change.reason || 'faster'})`;
      lines.push(`| ${c.class} | ${formatNs(c.p50Ns)} | ${formatNs(c.p99Ns)} | ${formatNs(c.trimmedMeanNs)} | ${c.ratioToFastest.toFixed(2)}× | ${verdict} |`);
    }
    lines.push('');
    const f = sensitivity.denormalFlush;
    if (f) {
      lines.push(
        `Denormals flushed (denormalAsZero): the denormal class at ${f.flushedRatioToFastest.toFixed(2)}× the fastest — ${f.recovers ? 'flushing recovers it' : 'flushing does not recover it'}; outputs change by up to ${f.maxAbsOutputChange} (max |Δ|, on ${f.comparedOn}).`,
        '',
      );
    } else if (sensitivity.denormalFlushNote) lines.push(`Denormals: ${sensitivity.denormalFlushNote}`, '');
  }
  const prof = steps.profile?.result as any;
  if (prof?.opTypes) {
    lines.push(
      `**Profile** (${prof.model?.runtime === 'tflite' ? "model-audit's TFLite kernel timer" : "ONNX Runtime's profiler"}, ${prof.runs} runs): a profiled run takes ${formatNs(prof.profiledRunP50Ns)} against ${formatNs(prof.unprofiledP50Ns)} unprofiled (${prof.overheadRatio.toFixed(2)}× with the profiler's own cost); the nodes account for ${(prof.nodeSumRatio * 100).toFixed(0)} % of it.${prof.overheadRatio >= 1.1 ? ' Read the shares.' : ''}`,
      '',
    );
    lines.push('| operator type | nodes | share of the run | time per run |', '| --- | --- | --- | --- |');
    for (const t of prof.opTypes.slice(0, 10)) lines.push(`| ${t.opType} | ${t.nodes} | ${(t.share * 100).toFixed(1)} % | ${formatNs(t.perRunNs)} |`);
    lines.push('', '| top nodes | type | output shape | share | p50 |', '| --- | --- | --- | --- | --- |');
    for (const n of prof.nodes.slice(0, 10)) lines.push(`| ${n.name} | ${n.opType} | ${n.outputShapes.map((x: number[]) => `[${x.join(',')}]`).join(' ')} | ${(n.share * 100).toFixed(1)} % | ${formatNs(n.p50Ns)} |`);
    lines.push('');
  }
  const memory = steps.memory?.result as any;
  if (memory?.counted) {
    lines.push(
      `**Memory (runtime library)**: creation ${formatBytes(memory.creation?.netBytes)} live, ${memory.perInference ? `${memory.perInference.allocations.toFixed(1)} allocations and ${formatBytes(memory.perInference.allocatedBytes)} per inference, net ${formatBytes(memory.perInference.netGrowthBytes)}` : ''}; high-water of a run ${formatBytes(memory.peakRunBytes)}`,
      '',
    );
  }
  const abnormal = steps.abnormal?.result as any;
  if (abnormal?.counts) {
    const c = abnormal.counts;
    lines.push(`**Abnormal inputs** (${abnormal.cases.length} cases): ${c.finite} finite, ${c['non-finite']} non-finite, ${c.rejected} rejected, ${c.crashed} crashed, ${c.hung} hung`, '');
  }
  const accuracy = steps.accuracy?.result as any;
  if (accuracy?.cases) lines.push(`**Accuracy**: ${accuracy.passed} passed, ${accuracy.failed} failed, ${accuracy.crashed} crashed, ${accuracy.hung} hung`, '');
  const cross = steps.crossRuntime?.result as any;
  if (cross) lines.push(`**Cross-runtime**: ${cross.agree ? 'agree' : 'disagree'} (max |Δ| ${cross.maxAbsError}); p50 ${formatNs(cross.latency?.a.p50Ns)} (${cross.a.runtime}) vs ${formatNs(cross.latency?.b.p50Ns)} (${cross.b.runtime})`, '');
  const constrained = steps.constrained?.result as any;
  if (constrained) {
    const asked = constrained.asked;
    lines.push(
      `**Constrained** (${asked.intraOpThreads ?? asked.threads} thread${asked.cpu !== null ? `, CPU ${asked.cpu}` : ''}${asked.memoryLimitBytes ? `, ${formatBytes(asked.memoryLimitBytes)} limit` : ''}): ${constrained.works ? `works, p50 ${formatNs(constrained.latency?.p50Ns)}` : `does not work (${constrained.status}${constrained.error ? `: ${constrained.error}` : ''})`}`,
      '',
    );
  }
  const soak = steps.soak?.result as any;
  if (soak?.verdicts) {
    lines.push(`**Soak** (${soak.windows.length} windows, leak verdict: ${soak.verdicts.leakCall ?? (soak.verdicts.leak ? 'leak' : 'no leak')}): ${soak.verdicts.latencyTrend.statement} ${soak.verdicts.runtimeMemory?.statement ?? soak.verdicts.rss.statement}`, '');
  }
  const errored = Object.entries(steps).filter(([, s]) => s?.status === 'errored');
  for (const [step, s] of errored) lines.push(`> step **${step}** failed: ${s!.error?.message ?? ''}`);
  if (errored.length) lines.push('');
  return lines.join('\n');
}
