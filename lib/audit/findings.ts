/**
 * Findings: what an audit saw that a user must know whether or not a budget covers it: crashes,
 * hangs, non-finite outputs from finite inputs, leaks, drift, steps that failed. Budgets decide the
 * exit code; findings are never hidden behind a "passed".
 */
import type { Finding, FindingKind, StepName, StepRecord } from '../report/json.js';

// Abnormal-input classes whose values are all finite: a non-finite output from one of them is the
// model's doing (overflow, division by zero), not NaN or Inf passed through.
const finiteClasses = new Set(['pos-zero', 'neg-zero', 'denormal', 'dtype-max', 'dtype-min', 'huge', 'zeros', 'constant', 'out-of-range', 'large-batch']);

function finding(step: StepName, kind: FindingKind, summary: string, extra: Partial<Omit<Finding, 'step' | 'kind' | 'summary'>> = {}): Finding {
  return { step, kind, summary, input: null, case: null, signal: null, lastPhase: null, ...extra };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function abnormalFindings(result: any): Finding[] {
  const out: Finding[] = [];
  for (const c of result?.cases ?? []) {
    const what = `input "${c.input}", ${c.kind} (${c.description})`;
    if (c.classification === 'crashed') {
      out.push(finding('abnormal', 'crash', `The runtime crashed (${c.signal ?? `exit ${c.exitCode}`}) on ${what}, during ${c.lastPhase}.`, { input: c.input, case: c.kind, signal: c.signal ?? `exit ${c.exitCode}`, lastPhase: c.lastPhase }));
    } else if (c.classification === 'hung') {
      out.push(finding('abnormal', 'hang', `The runtime hung on ${what}, during ${c.lastPhase}.`, { input: c.input, case: c.kind, lastPhase: c.lastPhase }));
    }
    if (c.slow && c.latency) {
      out.push(finding('abnormal', 'slow-input', `${what} runs ${c.latency.ratioToBaseline?.toFixed(1)}× slower than ordinary values (p50 ${(c.latency.p50Ns / 1e3).toFixed(1)} µs).`, { input: c.input, case: c.kind }));
    }
    if (c.classification === 'non-finite' && finiteClasses.has(c.kind)) {
      const outputs = (c.outputs ?? []).filter((o: any) => o.nan + o.posInf + o.negInf > 0).map((o: any) => `${o.name}: ${o.nan} NaN, ${o.posInf + o.negInf} Inf of ${o.elements}`);
      out.push(finding('abnormal', 'non-finite-output', `Finite values gave non-finite outputs on ${what}: ${outputs.join('; ')}.`, { input: c.input, case: c.kind }));
    }
  }
  return out;
}

function isolatedCaseFindings(step: StepName, result: any): Finding[] {
  return (result?.cases ?? [])
    .filter((c: any) => c.status === 'crashed' || c.status === 'hung')
    .map((c: any) =>
      c.status === 'crashed'
        ? finding(step, 'crash', `The runtime crashed (${c.signal ?? 'exit'}) on case ${c.name}.`, { case: c.name, signal: c.signal })
        : finding(step, 'hang', `The runtime hung on case ${c.name}.`, { case: c.name }),
    );
}

function constrainedFindings(result: any): Finding[] {
  if (!result || result.works) return [];
  const asked = result.asked ?? {};
  const how = [`${asked.intraOpThreads} thread(s)`, asked.cpu !== null && asked.cpu !== undefined ? `CPU ${asked.cpu}` : null, asked.memoryLimitBytes ? `${asked.memoryLimitBytes} bytes` : null].filter(Boolean).join(', ');
  if (result.status === 'crashed') return [finding('constrained', 'crash', `The runtime crashed (${result.signal}) under the constraints (${how}), during ${result.lastPhase}.`, { signal: result.signal, lastPhase: result.lastPhase })];
  if (result.status === 'hung') return [finding('constrained', 'hang', `The runtime hung under the constraints (${how}), during ${result.lastPhase}.`, { lastPhase: result.lastPhase })];
  return [finding('constrained', 'not-working-constrained', `The model does not work under the constraints (${how}): ${result.error ?? result.status}.`)];
}

function soakFindings(result: any): Finding[] {
  const out: Finding[] = [];
  const v = result?.verdicts;
  if (v?.leak) out.push(finding('soak', 'leak', (v.runtimeMemory ?? v.rss)?.statement ?? 'Memory grows through the run: a leak.'));
  if (v?.latencyTrend?.drifting) out.push(finding('soak', 'drift', v.latencyTrend.statement));
  const iso = result?.isolation;
  if (iso?.status === 'crashed') out.push(finding('soak', 'crash', `The soak's child died (${iso.signal}) during ${iso.lastPhase}.`, { signal: iso.signal, lastPhase: iso.lastPhase }));
  if (iso?.status === 'hung') out.push(finding('soak', 'hang', `The soak's child stopped reporting during ${iso.lastPhase}.`, { lastPhase: iso.lastPhase }));
  return out;
}

/** Every finding in the steps' results, in step order. */
export function collectFindings(steps: Partial<Record<StepName, StepRecord>>): Finding[] {
  const out: Finding[] = [];
  for (const [name, record] of Object.entries(steps) as [StepName, StepRecord | undefined][]) {
    if (!record) continue;
    if (record.status === 'errored') out.push(finding(name, 'step-failed', `The ${name} step failed: ${record.error?.message ?? 'error'}.`));
    const result = record.result as any;
    if (name === 'abnormal') out.push(...abnormalFindings(result));
    if (name === 'accuracy') out.push(...isolatedCaseFindings(name, result));
    if (name === 'constrained') out.push(...constrainedFindings(result));
    if (name === 'soak') out.push(...soakFindings(result));
    if (name === 'sensitivity' && result?.sensitive) out.push(finding('sensitivity', 'input-sensitive', result.statement));
  }
  return out;
}
