/**
 * The soak's JSON-lines file: a header, one line per window as it ends, a summary last. A soak
 * killed part-way leaves every finished window readable.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import type { SoakWindow } from './window.js';

/** Starts the file with its header line (replacing any file of that name). */
export function writeSoakHeader(path: string, header: object): void {
  writeFileSync(path, JSON.stringify({ kind: 'soak-header', ...header }) + '\n');
}

export function appendSoakWindow(path: string, window: SoakWindow): void {
  appendFileSync(path, JSON.stringify({ kind: 'window', window }) + '\n');
}

export function appendSoakSummary(path: string, summary: object): void {
  appendFileSync(path, JSON.stringify({ kind: 'soak-summary', ...summary }) + '\n');
}

/** Reads a soak file back: every complete window line (a soak killed mid-write keeps the rest). */
export function readSoakFile(path: string): { header: unknown; windows: SoakWindow[]; summary: unknown } {
  let header: unknown = null;
  let summary: unknown = null;
  const windows: SoakWindow[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let record: { kind?: string };
    try {
      record = JSON.parse(line) as { kind?: string };
    } catch {
      continue; // a line cut by a kill
    }
    if (record.kind === 'soak-header') header = record;
    else if (record.kind === 'window') windows.push((record as unknown as { window: SoakWindow }).window);
    else if (record.kind === 'soak-summary') summary = record;
  }
  return { header, windows, summary };
}

