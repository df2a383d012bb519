/**
 * One self-contained HTML page per report: summary, budgets and charts (latency histogram and
 * CDF, throughput against concurrency, memory per phase, the soak timeline). Chart.js is inlined,
 * so the page needs no network.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { sortedCopy } from '../stats/summary.js';
import type { AuditReport } from './json.js';
import { toMarkdown } from './markdown.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const require = createRequire(import.meta.url);

function chartLibrary(): string {
  const main = require.resolve('chart.js');
  return readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

interface ChartData {
  histogram: { labelsUs: number[]; counts: number[] } | null;
  cdf: { us: number[]; fraction: number[] } | null;
  throughput: { concurrency: number[]; ips: number[]; p99Us: number[] } | null;
  memory: { phases: string[]; allocatedBytes: number[]; peakBytes: number[] } | null;
  soak: { seconds: number[]; p50Us: number[]; p99Us: number[]; liveBytes: (number | null)[] } | null;
}

function latencyCharts(samples: number[] | undefined): Pick<ChartData, 'histogram' | 'cdf'> {
  if (!samples || samples.length === 0) return { histogram: null, cdf: null };
  const sorted = sortedCopy(samples);
  const n = sorted.length;
  const lo = sorted[Math.floor(n * 0.001)]!;
  const hi = sorted[Math.min(n - 1, Math.floor(n * 0.999))]!;
  const bins = 60;
  const width = Math.max(1, (hi - lo) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of sorted) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]!++;
  const points = Math.min(200, n);
  const us: number[] = [];
  const fraction: number[] = [];
  for (let i = 0; i < points; i++) {
    const rank = Math.min(n - 1, Math.round(((i + 1) / points) * n) - 1);
    us.push(sorted[rank]! / 1e3);
    fraction.push((rank + 1) / n);
  }
  return {
    histogram: { labelsUs: counts.map((_, i) => Number(((lo + (i + 0.5) * width) / 1e3).toPrecision(4))), counts },
    cdf: { us, fraction },
  };
}

function chartData(report: AuditReport): ChartData {
  const latency = report.steps.latency?.result as any;
  const throughput = report.steps.throughput?.result as any;
  const memory = report.steps.memory?.result as any;
  const soak = report.steps.soak?.result as any;
  const phases = memory?.counted ? (['load', 'creation', 'firstRun', 'steadyState'] as const).filter((p) => memory[p]) : [];
  return {
    ...latencyCharts(latency?.samplesNs),
    throughput: throughput?.levels?.length
      ? {
          concurrency: throughput.levels.map((l: any) => l.concurrency),
          ips: throughput.levels.map((l: any) => l.inferencesPerSecond),
          p99Us: throughput.levels.map((l: any) => l.latency.p99Ns / 1e3),
        }
      : null,
    memory: phases.length
      ? { phases: [...phases], allocatedBytes: phases.map((p) => memory[p].allocatedBytes), peakBytes: phases.map((p) => memory[p].peakBytesAboveStart) }
      : null,
    soak: soak?.windows?.length
      ? {
          seconds: soak.windows.map((w: any) => w.endMs / 1000),
          p50Us: soak.windows.map((w: any) => w.latency.p50Ns / 1e3),
          p99Us: soak.windows.map((w: any) => w.latency.p99Ns / 1e3),
          liveBytes: soak.windows.map((w: any) => w.runtimeLiveBytes),
        }
      : null,
  };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Markdown tables and lines, rendered as plain HTML (the summary is the Markdown report). */
function summaryHtml(markdown: string): string {
  const out: string[] = [];
  let table: string[][] | null = null;
  const flush = (): void => {
    if (!table) return;
    const [head, , ...rows] = table;
    out.push(`<table><thead><tr>${head!.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
    table = null;
  };
  for (const raw of markdown.split('\n')) {
    const line = escapeHtml(raw).replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
    if (line.startsWith('|')) {
      (table ??= []).push(line.slice(1, -1).split('|').map((c) => c.trim()));
      continue;
    }
    flush();
    if (line.startsWith('## ')) out.push(`<h1>${line.slice(3)}</h1>`);
    else if (line.startsWith('&gt; ')) out.push(`<p class="warn">${line.slice(5)}</p>`);
    else if (line.startsWith('- ')) out.push(`<p class="warn">${line.slice(2)}</p>`);
    else if (line.trim() !== '') out.push(`<p>${line}</p>`);
  }
  flush();
  return out.join('\n');
}

const pageScript = `
const data = JSON.parse(document.getElementById('chart-data').textContent);
const common = { animation: false, responsive: false, plugins: { legend: { display: true } } };
const made = [];
function chart(id, config) {
  const canvas = document.getElementById(id);
  if (!canvas) return;
  made.push(new Chart(canvas, config));
}
if (data.histogram) chart('latency-histogram', { type: 'bar', data: { labels: data.histogram.labelsUs, datasets: [{ label: 'inferences per bin', data: data.histogram.counts, backgroundColor: '#4e79a7' }] }, options: { ...common, scales: { x: { title: { display: true, text: 'latency (µs)' } }, y: { title: { display: true, text: 'count' } } } } });
if (data.cdf) chart('latency-cdf', { type: 'line', data: { datasets: [{ label: 'fraction of inferences at or below', data: data.cdf.us.map((x, i) => ({ x, y: data.cdf.fraction[i] })), borderColor: '#e15759', pointRadius: 0 }] }, options: { ...common, scales: { x: { type: 'linear', title: { display: true, text: 'latency (µs)' } }, y: { min: 0, max: 1 } } } });
if (data.throughput) chart('throughput', { type: 'line', data: { labels: data.throughput.concurrency, datasets: [{ label: 'inferences/s', data: data.throughput.ips, borderColor: '#59a14f', yAxisID: 'y' }, { label: 'p99 (µs)', data: data.throughput.p99Us, borderColor: '#f28e2b', yAxisID: 'y1' }] }, options: { ...common, scales: { x: { title: { display: true, text: 'concurrent streams' } }, y: { position: 'left' }, y1: { position: 'right' } } } });
if (data.memory) chart('memory', { type: 'bar', data: { labels: data.memory.phases, datasets: [{ label: 'allocated bytes', data: data.memory.allocatedBytes, backgroundColor: '#76b7b2' }, { label: 'high-water above start (bytes)', data: data.memory.peakBytes, backgroundColor: '#edc948' }] }, options: common });
if (data.soak) chart('soak', { type: 'line', data: { labels: data.soak.seconds, datasets: [{ label: 'p50 (µs)', data: data.soak.p50Us, borderColor: '#4e79a7', yAxisID: 'y' }, { label: 'p99 (µs)', data: data.soak.p99Us, borderColor: '#e15759', yAxisID: 'y' }, { label: 'runtime live bytes', data: data.soak.liveBytes, borderColor: '#b07aa1', yAxisID: 'y1' }] }, options: { ...common, scales: { x: { title: { display: true, text: 'seconds' } }, y: { position: 'left' }, y1: { position: 'right' } } } });
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
  const section = (id: string, title: string, present: boolean): string =>
    `<section><h2>${title}</h2>${present ? `<canvas id="${id}" width="720" height="300"></canvas>` : '<p class="muted">not measured</p>'}</section>`;
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>model-audit report</title>
<style>
body { font: 14px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1rem; } th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; }
.warn { color: #8a5300; } .muted { color: #888; } section { margin: 1.5rem 0; }
</style></head>
<body data-charts-rendered="0">
${summaryHtml(toMarkdown(report))}
${section('latency-histogram', 'Latency histogram', data.histogram !== null)}
${section('latency-cdf', 'Latency CDF', data.cdf !== null)}
${section('throughput', 'Throughput against concurrency', data.throughput !== null)}
${section('memory', 'Memory per phase (runtime library)', data.memory !== null)}
${section('soak', 'Soak timeline', data.soak !== null)}
<script type="application/json" id="chart-data">${json}</script>
<script>${chartLibrary()}</script>
<script>${pageScript}</script>
</body></html>
`;
}
