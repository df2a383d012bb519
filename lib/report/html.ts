/**
 * One self-contained HTML page per report: the headline with status badges (CSS, no emoji fonts
 * needed), the findings, the summary, and a chart for each measurement the report holds — latency
 * histogram and CDF, throughput against concurrency, memory per phase, the soak timeline. Axes
 * carry units and formatted ticks and start at zero where a ratio is read; the CDF goes to a log
 * axis when the tail is long. Chart.js is inlined, so the page needs no network.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { sortedCopy } from '../stats/summary.js';
import type { AuditReport } from './json.js';
import { budgetsHeadline, findingsHeadline, toMarkdown } from './markdown.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const require = createRequire(import.meta.url);

export function chartLibrary(): string {
  const main = require.resolve('chart.js');
  return readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

/** A time unit that suits the values: `µs` below a millisecond, else `ms`. */
interface TimeUnit {
  name: 'µs' | 'ms';
  ns: number;
}

function timeUnitFor(ns: number): TimeUnit {
  return ns >= 1e6 ? { name: 'ms', ns: 1e6 } : { name: 'µs', ns: 1e3 };
}

interface ChartData {
  latencyUnit: TimeUnit;
  histogram: { centers: number[]; counts: number[]; binWidth: number } | null;
  cdf: { points: { x: number; y: number }[]; logScale: boolean } | null;
  throughput: { concurrency: number[]; ips: number[]; p99: number[]; unit: TimeUnit } | null;
  memory: { phases: string[]; allocatedBytes: number[]; peakBytes: number[] } | null;
  soak: { p50: { x: number; y: number }[]; p99: { x: number; y: number }[]; live: { x: number; y: number }[] | null; unit: TimeUnit } | null;
  sensitivity: { classes: string[]; p50: number[]; mean: number[]; slower: boolean[]; unit: TimeUnit } | null;
  profile: { opTypes: string[]; shares: number[] } | null;
}

function latencyCharts(samples: number[] | undefined, unit: TimeUnit): Pick<ChartData, 'histogram' | 'cdf'> {
  if (!samples || samples.length === 0) return { histogram: null, cdf: null };
  const sorted = sortedCopy(samples);
  const n = sorted.length;
  // The histogram shows the body: 0.1 % to 99.9 %, so that one outlier does not squash it.
  const lo = sorted[Math.floor(n * 0.001)]!;
  const hi = sorted[Math.min(n - 1, Math.floor(n * 0.999))]!;
  const bins = 60;
  const width = Math.max(1, (hi - lo) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of sorted) {
    if (v < lo || v > hi) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]!++;
  }
  const points: { x: number; y: number }[] = [];
  const steps = Math.min(400, n);
  for (let i = 0; i < steps; i++) {
    const rank = Math.min(n - 1, Math.round(((i + 1) / steps) * n) - 1);
    points.push({ x: sorted[rank]! / unit.ns, y: (rank + 1) / n });
  }
  // A long tail (max far above the median) would squash the body of a linear axis.
  const logScale = sorted[n - 1]! > 10 * sorted[Math.floor(n / 2)]! && sorted[0]! > 0;
  return {
    histogram: { centers: counts.map((_, i) => (lo + (i + 0.5) * width) / unit.ns), counts, binWidth: width / unit.ns },
    cdf: { points, logScale },
  };
}

function chartData(report: AuditReport): ChartData {
  const latency = report.steps.latency?.result as any;
  const throughput = report.steps.throughput?.result as any;
  const memory = report.steps.memory?.result as any;
  const soak = report.steps.soak?.result as any;
  const sensitivity = report.steps.sensitivity?.result as any;
  const profileResult = report.steps.profile?.result as any;
  const sensitivityUnit = timeUnitFor(Math.max(0, ...(sensitivity?.classes ?? []).map((c: any) => c.p50Ns ?? 0)));
  const latencyUnit = timeUnitFor(latency?.summary?.p50Ns ?? 0);
  const phases = memory?.counted ? (['load', 'creation', 'firstRun', 'steadyState'] as const).filter((p) => memory[p]) : [];
  const throughputUnit = timeUnitFor(Math.max(0, ...(throughput?.levels ?? []).map((l: any) => l.latency.p99Ns ?? 0)));
  const soakUnit = timeUnitFor(Math.max(0, ...(soak?.windows ?? []).map((w: any) => w.latency.p99Ns ?? 0)));
  return {
    latencyUnit,
    ...latencyCharts(latency?.samplesNs, latencyUnit),
    throughput: throughput?.levels?.length
      ? {
          concurrency: throughput.levels.map((l: any) => l.concurrency),
          ips: throughput.levels.map((l: any) => l.inferencesPerSecond),
          p99: throughput.levels.map((l: any) => l.latency.p99Ns / throughputUnit.ns),
          unit: throughputUnit,
        }
      : null,
    memory: phases.length
      ? { phases: [...phases], allocatedBytes: phases.map((p) => memory[p].allocatedBytes), peakBytes: phases.map((p) => memory[p].peakBytesAboveStart) }
      : null,
    soak: soak?.windows?.length
      ? {
          p50: soak.windows.map((w: any) => ({ x: w.endMs / 1000, y: w.latency.p50Ns / soakUnit.ns })),
          p99: soak.windows.map((w: any) => ({ x: w.endMs / 1000, y: w.latency.p99Ns / soakUnit.ns })),
          live: soak.windows.every((w: any) => w.runtimeLiveBytes !== null) ? soak.windows.map((w: any) => ({ x: w.endMs / 1000, y: w.runtimeLiveBytes })) : null,
          unit: soakUnit,
        }
      : null,
    sensitivity: sensitivity?.classes?.length
      ? {
          classes: sensitivity.classes.map((c: any) => c.class),
          p50: sensitivity.classes.map((c: any) => c.p50Ns / sensitivityUnit.ns),
          mean: sensitivity.classes.map((c: any) => c.trimmedMeanNs / sensitivityUnit.ns),
          slower: sensitivity.classes.map((c: any) => Boolean(c.slower)),
          unit: sensitivityUnit,
        }
      : null,
    profile: profileResult?.opTypes?.length
      ? { opTypes: profileResult.opTypes.slice(0, 12).map((t: any) => t.opType), shares: profileResult.opTypes.slice(0, 12).map((t: any) => t.share * 100) }
      : null,
  };
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const badges: Record<string, string> = { passed: 'pass', FAILED: 'fail', 'not measured': 'unknown' };

/** Markdown tables and lines, rendered as plain HTML, with status words turned into badges. */
function summaryHtml(markdown: string): string {
  const out: string[] = [];
  let table: string[][] | null = null;
  const cell = (c: string): string => {
    const word = Object.keys(badges).find((w) => c === w || c.startsWith(`${w}: `));
    return word ? `<span class="badge ${badges[word]}">${word}</span>${c.slice(word.length)}` : c;
  };
  const flush = (): void => {
    if (!table) return;
    const [head, , ...rows] = table;
    out.push(`<table><thead><tr>${head!.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
    table = null;
  };
  const lines = markdown.split('\n').slice(1); // the headline is drawn apart, with badges
  for (const raw of lines) {
    const line = escapeHtml(raw).replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>').replace(/`([^`]+)`/g, '<code>$1</code>');
    if (line.startsWith('|')) {
      (table ??= []).push(line.slice(1, -1).split('|').map((c) => c.trim()));
      continue;
    }
    flush();
    if (line.startsWith('&gt; ')) out.push(`<p class="warn">${line.slice(5)}</p>`);
    else if (line.startsWith('- ')) out.push(`<p class="finding">${line.slice(2)}</p>`);
    else if (line.trim() !== '') out.push(`<p>${line}</p>`);
  }
  flush();
  return out.join('\n');
}

function headlineHtml(report: AuditReport): string {
  const name = report.model.path ? report.model.path.split('/').pop()! : `${report.model.runtime} model`;
  const budgets = budgetsHeadline(report.budgets);
  const budgetClass = report.budgets.length === 0 ? 'unknown' : budgets.startsWith('budgets passed') ? 'pass' : budgets.startsWith('budgets FAILED') ? 'fail' : 'unknown';
  const findings = findingsHeadline(report);
  const findingClass = (report.findings ?? []).length === 0 ? 'pass' : 'warn';
  const incomplete = report.complete === false ? ' <span class="badge fail">incomplete</span>' : '';
  return `<h1>model-audit — ${escapeHtml(name)}</h1>
<p class="headline"><span class="badge ${budgetClass}">${escapeHtml(budgets)}</span> <span class="badge ${findingClass}">${escapeHtml(findings)}</span>${incomplete}</p>`;
}

const pageScript = `
const data = JSON.parse(document.getElementById('chart-data').textContent);
const common = { animation: false, responsive: false, plugins: { legend: { display: true } } };
const made = [];
function bytes(v) {
  const a = Math.abs(v);
  if (a >= 1073741824) return (v / 1073741824).toFixed(2) + ' GiB';
  if (a >= 1048576) return (v / 1048576).toFixed(a >= 104857600 ? 0 : 1) + ' MiB';
  if (a >= 1024) return (v / 1024).toFixed(a >= 102400 ? 0 : 1) + ' KiB';
  return v.toFixed(0) + ' B';
}
function num(v) { return Number(v.toPrecision(3)).toLocaleString('en-US'); }
// Ticks on byte axes at round binary amounts (1, 2, 4, 8, … KiB/MiB), about six of them.
function bytesStep(values) {
  const max = Math.max(1, ...values.filter((v) => v !== null));
  let step = 1;
  while (max / step > 6) step *= 2;
  return step;
}
function seconds(v) { return (Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1)) + ' s'; }
function axis(title, format, extra) { return Object.assign({ title: { display: true, text: title }, ticks: { callback: (v) => format(Number(v)) } }, extra || {}); }
function chart(id, config) {
  const canvas = document.getElementById(id);
  if (!canvas) return;
  made.push(new Chart(canvas, config));
}
const lu = data.latencyUnit.name;
if (data.histogram) chart('latency-histogram', { type: 'bar', data: { labels: data.histogram.centers.map((c) => num(c)), datasets: [{ label: 'inferences per ' + num(data.histogram.binWidth) + ' ' + lu + ' bin (0.1 % to 99.9 %)', data: data.histogram.counts, backgroundColor: '#4e79a7', barPercentage: 1, categoryPercentage: 1 }] }, options: { ...common, scales: { x: { title: { display: true, text: 'latency (' + lu + ')' } }, y: axis('inferences', num, { beginAtZero: true }) } } });
if (data.cdf) chart('latency-cdf', { type: 'line', data: { datasets: [{ label: 'share of inferences at or below', data: data.cdf.points, borderColor: '#e15759', pointRadius: 0 }] }, options: { ...common, scales: { x: axis('latency (' + lu + ')' + (data.cdf.logScale ? ', log scale: the tail is long' : ''), num, { type: data.cdf.logScale ? 'logarithmic' : 'linear' }), y: axis('share of inferences', (v) => Math.round(v * 100) + ' %', { min: 0, max: 1 }) } } });
if (data.throughput) chart('throughput', { type: 'line', data: { labels: data.throughput.concurrency, datasets: [{ label: 'inferences/s', data: data.throughput.ips, borderColor: '#59a14f', yAxisID: 'y' }, { label: 'p99 (' + data.throughput.unit.name + ')', data: data.throughput.p99, borderColor: '#f28e2b', yAxisID: 'y1' }] }, options: { ...common, scales: { x: { title: { display: true, text: 'concurrent streams' } }, y: axis('inferences/s', num, { position: 'left', beginAtZero: true }), y1: axis('p99 latency (' + data.throughput.unit.name + ')', num, { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false } }) } } });
if (data.memory) chart('memory', { type: 'bar', data: { labels: data.memory.phases, datasets: [{ label: 'allocated', data: data.memory.allocatedBytes, backgroundColor: '#76b7b2' }, { label: 'high-water above the phase start', data: data.memory.peakBytes, backgroundColor: '#edc948' }] }, options: { ...common, scales: { y: axis('bytes', bytes, { beginAtZero: true, ticks: { callback: (v) => bytes(Number(v)), stepSize: bytesStep(data.memory.allocatedBytes.concat(data.memory.peakBytes)) } }) } } });
if (data.sensitivity) {
  const su = data.sensitivity.unit.name;
  chart('sensitivity', { type: 'bar', data: { labels: data.sensitivity.classes, datasets: [{ label: 'p50 (' + su + ')', data: data.sensitivity.p50, backgroundColor: data.sensitivity.slower.map((s) => (s ? '#c62828' : '#4e79a7')) }, { label: '10 % trimmed mean (' + su + '), what the verdict compares', data: data.sensitivity.mean, backgroundColor: '#bab0ac' }] }, options: { ...common, scales: { x: { title: { display: true, text: 'input class (red: slower than the fastest)' } }, y: axis('latency (' + su + ')', num, { beginAtZero: true }) } } });
}
if (data.profile) chart('profile', { type: 'bar', data: { labels: data.profile.opTypes, datasets: [{ label: 'share of a profiled run (%)', data: data.profile.shares, backgroundColor: '#4e79a7' }] }, options: { ...common, indexAxis: 'y', scales: { x: axis('share of the run (%)', num, { beginAtZero: true }), y: { title: { display: true, text: 'operator type' } } } } });
if (data.soak) {
  const sets = [{ label: 'p50 (' + data.soak.unit.name + ')', data: data.soak.p50, borderColor: '#4e79a7', yAxisID: 'y' }, { label: 'p99 (' + data.soak.unit.name + ')', data: data.soak.p99, borderColor: '#e15759', yAxisID: 'y' }];
  if (data.soak.live) sets.push({ label: 'runtime live bytes', data: data.soak.live, borderColor: '#b07aa1', yAxisID: 'y1' });
  const scales = { x: axis('time since the start (s)', seconds, { type: 'linear' }), y: axis('latency (' + data.soak.unit.name + ')', num, { position: 'left', beginAtZero: true }) };
  if (data.soak.live) scales.y1 = axis('runtime live bytes', bytes, { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { callback: (v) => bytes(Number(v)), stepSize: bytesStep(data.soak.live.map((p) => p.y)) } });
  chart('soak', { type: 'line', data: { datasets: sets }, options: { ...common, scales } });
}
// Tell a headless check how many charts drew something.
let nonBlank = 0;
for (const c of made) {
  const ctx = c.canvas.getContext('2d');
  const pixels = ctx.getImageData(0, 0, c.canvas.width, c.canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { nonBlank++; break; } }
}
document.body.dataset.chartsRendered = String(made.length);
document.body.dataset.chartsNonBlank = String(nonBlank);
`;

export function toHtml(report: AuditReport): string {
  const data = chartData(report);
  const sections = [
    ['latency-histogram', 'Latency histogram', data.histogram !== null],
    ['latency-cdf', 'Latency CDF', data.cdf !== null],
    ['throughput', 'Throughput against concurrency', data.throughput !== null],
    ['memory', 'Memory per phase (runtime library)', data.memory !== null],
    ['sensitivity', 'Latency by input class', data.sensitivity !== null],
    ['profile', 'Where the time goes: operator types (profiler)', data.profile !== null],
    ['soak', 'Soak timeline', data.soak !== null],
  ] as const;
  // Only the charts the report has data for: no empty "not measured" sections.
  const charts = sections
    .filter(([, , present]) => present)
    .map(([id, title]) => `<section><h2>${title}</h2><canvas id="${id}" width="720" height="300"></canvas></section>`)
    .join('\n');
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>model-audit report</title>
<style>
body { font: 14px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1rem; } th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; }
.warn { color: #8a5300; } .finding { border-left: 4px solid #c0392b; padding-left: .6rem; } section { margin: 1.5rem 0; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: .8rem; font-weight: 600; font-size: .9em; color: #fff; }
.badge.pass { background: #2e7d32; } .badge.fail { background: #c62828; } .badge.warn { background: #b26a00; } .badge.unknown { background: #616161; }
.headline .badge { font-size: 1em; margin-right: .4rem; }
</style></head>
<body data-charts-rendered="0">
${headlineHtml(report)}
${summaryHtml(toMarkdown(report))}
${charts}
<script type="application/json" id="chart-data">${json}</script>
<script>${chartLibrary()}</script>
<script>${pageScript}</script>
</body></html>
`;
}
