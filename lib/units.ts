/**
 * Units in one place. Options are given in milliseconds and bytes; results are in nanoseconds and
 * bytes; each name says which. These are the only conversions and the only formatting of them.
 */

/** Milliseconds → nanoseconds, rounded to a whole nanosecond. */
export function msToNs(ms: number): number {
  return Math.round(ms * 1e6);
}

/** Nanoseconds → milliseconds. */
export function nsToMs(ns: number): number {
  return ns / 1e6;
}

export const msPerHour = 3_600_000;

/** A duration in the unit that reads best: `13.6 µs`, `1.31 ms`, `2.00 s`; `–` when unknown. */
export function formatNs(ns: number | null | undefined): string {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return '–';
  const abs = Math.abs(ns);
  if (abs >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (abs >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (abs >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(0)} ns`;
}

/** Bytes in binary units: `512 B`, `3.4 KiB`, `1.20 MiB`, `2.00 GiB`; `–` when unknown. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–';
  const abs = Math.abs(bytes);
  if (abs >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (abs >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes.toFixed(0)} B`;
}

/** A relative change as a signed percentage: `+12.3 %`, `−4.0 %`. */
export function formatPercent(fraction: number, digits = 1): string {
  if (!Number.isFinite(fraction)) return '–';
  const text = (Math.abs(fraction) * 100).toFixed(digits);
  return `${fraction < 0 ? '−' : '+'}${text} %`;
}

/** A measured figure with its unit, as budgets and comparisons show it. */
export function formatValue(value: number | boolean | null, unit: string): string {
  if (value === null) return 'not measured';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (unit === 'bytes') return formatBytes(value);
  if (unit === 'ns') return formatNs(value);
  return `${Number(value.toPrecision(4))}${unit ? ` ${unit}` : ''}`;
}
