/**
 * `model-audit report`: a report.json rendered again in any format.
 */
import { readReport } from '../compare/reports.js';
import { toHtml } from '../report/html.js';
import { toJUnit } from '../report/junit.js';
import { toMarkdown } from '../report/markdown.js';
import { exitCodes } from './exit-codes.js';
import { writeAtomically } from './output.js';

export function reportCommand(path: string, flags: { html?: string; md?: string; junit?: string }): number {
  const report = readReport(path);
  if (flags.html) writeAtomically(flags.html, toHtml(report));
  if (flags.md) writeAtomically(flags.md, toMarkdown(report) + '\n');
  if (flags.junit) writeAtomically(flags.junit, toJUnit(report));
  if (!flags.html && !flags.md && !flags.junit) console.log(toMarkdown(report));
  return exitCodes.ok;
}
