/**
 * The history as one self-contained HTML page: a chart per metric and machine, one line per model
 * (and runtime and options) in it, each run a point at its time with its commit in the tooltip, the
 * steps marked, and the table of each series' latest check. Chart.js is inlined: no network.
 */
import { chartLibrary, escapeHtml } from '../report/html.js';
import { formatValue } from '../units.js';
import type { Series } from './analysis.js';
import { metricLabel } from './metrics.js';

interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  lines: {
    label: string;
    points: { x: number; y: number; commit: string; date: string }[];
    steps: { x: number; y: number; text: string; regression: boolean }[];
  }[];
}

function machineName(s: Series): string {
  return `${s.machineLabel ?? s.cpuModel} (${s.machineId.slice(0, 8)})`;
}

function chartsOf(series: readonly Series[]): ChartSpec[] {
  const charts = new Map<string, ChartSpec>();
  for (const s of series) {
    const key = `${s.metric}|${s.inputClass}|${s.machineId}`;
    let chart = charts.get(key);
    if (!chart) {
      chart = { id: `chart-${charts.size}`, title: `${metricLabel(s.metric, s.inputClass)} — ${machineName(s)}`, unit: s.unit, lines: [] };
      charts.set(key, chart);
    }
    chart.lines.push({
      label: `${s.modelName} (${s.runtime}, options ${s.seriesKey.slice(0, 6)})`,
      points: s.points.map((p) => ({ x: Date.parse(p.createdAt), y: p.value, commit: p.gitCommit?.slice(0, 10) ?? 'no commit', date: p.createdAt })),
      steps: s.changePoints.map((c) => ({
        x: Date.parse(c.createdAt),
        y: s.points[c.index]!.value,
        text: `step ${c.relativeChange >= 0 ? '+' : ''}${(c.relativeChange * 100).toFixed(1)} % (${c.direction}) at ${c.gitCommit?.slice(0, 10) ?? 'no commit'}`,
        regression: c.direction === 'regression',
      })),
    });
  }
  return [...charts.values()];
}

const pageScript = `
const charts = JSON.parse(document.getElementById('history-data').textContent);
const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#bab0ac'];
function bytes(v) {
  const a = Math.abs(v);
  if (a >= 1048576) return (v / 1048576).toFixed(1) + ' MiB';
  if (a >= 1024) return (v / 1024).toFixed(1) + ' KiB';
  return v.toFixed(0) + ' B';
}
function format(v, unit) {
  if (unit === 'bytes') return bytes(v);
  if (unit === 'ns') return v >= 1e6 ? (v / 1e6).toPrecision(3) + ' ms' : (v / 1e3).toPrecision(3) + ' µs';
  return Number(v.toPrecision(4)).toLocaleString('en-US') + ' ' + unit;
}
function day(ms) { return new Date(ms).toISOString().slice(0, 16).replace('T', ' '); }
const made = [];
for (const c of charts) {
  const datasets = [];
  c.lines.forEach((line, i) => {
    datasets.push({ label: line.label, data: line.points, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length], pointRadius: 2.5, tension: 0 });
    if (line.steps.length) datasets.push({ label: 'steps of ' + line.label, data: line.steps, showLine: false, pointStyle: 'triangle', pointRadius: 9, backgroundColor: line.steps.map((s) => (s.regression ? '#c62828' : '#2e7d32')), borderColor: '#222' });
  });
  made.push(new Chart(document.getElementById(c.id), {
    type: 'line',
    data: { datasets },
    options: {
      animation: false, responsive: false,
      scales: {
        x: { type: 'linear', title: { display: true, text: 'when the audit ran (UTC)' }, ticks: { callback: (v) => day(Number(v)), maxTicksLimit: 6 } },
        y: { title: { display: true, text: c.unit }, ticks: { callback: (v) => format(Number(v), c.unit) } },
      },
      plugins: { tooltip: { callbacks: { label: (item) => { const p = item.raw; return p.text ? p.text : format(p.y, c.unit) + ' at ' + p.commit + ', ' + day(p.x); } } } },
    },
  }));
}
let nonBlank = 0;
for (const c of made) {
  const pixels = c.canvas.getContext('2d').getImageData(0, 0, c.canvas.width, c.canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { nonBlank++; break; } }
}
document.body.dataset.chartsRendered = String(made.length);
document.body.dataset.chartsNonBlank = String(nonBlank);
`;

export interface DashboardInfo {
  /** The store, password hidden. */
  location: string;
  /** The filter, in words. */
  filter: string;
  generatedAt: string;
}

export function historyDashboard(series: readonly Series[], info: DashboardInfo): string {
  const charts = chartsOf(series);
  const rows = series
    .map((s) => {
      const last = s.points[s.points.length - 1]!;
      const steps = s.changePoints.map((c) => `${c.direction} ${(c.relativeChange * 100).toFixed(1)} % at ${escapeHtml(c.gitCommit?.slice(0, 10) ?? c.createdAt)}`).join('<br>') || '–';
      const cls = s.latest.verdict === 'regression' ? 'fail' : s.latest.verdict === 'improvement' ? 'pass' : 'unknown';
      return `<tr><td>${escapeHtml(s.modelName)}</td><td>${escapeHtml(s.runtime)}</td><td>${escapeHtml(machineName(s))}</td><td>${escapeHtml(metricLabel(s.metric, s.inputClass))}</td><td>${s.points.length}</td><td>${escapeHtml(formatValue(last.value, s.unit))} at ${escapeHtml(last.gitCommit?.slice(0, 10) ?? '–')}</td><td><span class="badge ${cls}">${s.latest.verdict}</span> ${escapeHtml(s.latest.reason)}</td><td>${steps}</td></tr>`;
    })
    .join('\n');
  const sections = charts.map((c) => `<section><h2>${escapeHtml(c.title)}</h2><canvas id="${c.id}" width="900" height="300"></canvas></section>`).join('\n');
  const json = JSON.stringify(charts).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>model-audit history</title>
<style>
body { font: 14px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1rem; } th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; vertical-align: top; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: .8rem; font-weight: 600; font-size: .9em; color: #fff; }
.badge.pass { background: #2e7d32; } .badge.fail { background: #c62828; } .badge.unknown { background: #616161; }
section { margin: 1.5rem 0; }
</style></head>
<body data-charts-rendered="0">
<h1>model-audit history</h1>
<p>Store ${escapeHtml(info.location)}; ${escapeHtml(info.filter)}; ${series.length} series; generated ${escapeHtml(info.generatedAt)}. Triangles mark steps (red: worse, green: better).</p>
<table><thead><tr><th>model</th><th>runtime</th><th>machine</th><th>metric</th><th>runs</th><th>latest</th><th>latest run against the earlier ones</th><th>steps</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${sections}
<script type="application/json" id="history-data">${json}</script>
<script>${chartLibrary()}</script>
<script>${pageScript}</script>
</body></html>
`;
}
