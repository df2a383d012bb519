/**
 * JUnit XML: one test case per budget (and one per failed step), for CI test reports.
 */
import type { AuditReport } from './json.js';
import { budgetsHeadline, findingsHeadline } from './markdown.js';

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function toJUnit(report: AuditReport): string {
  const name = report.model.path ?? `${report.model.runtime} model`;
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  for (const b of report.budgets) {
    const status = b.status ?? (b.passed ? 'passed' : 'failed');
    let body = '';
    if (status === 'failed') {
      body = `\n      <failure message="${escape(b.reason ?? 'failed')}" type="budget">${escape(b.reason ?? '')}</failure>\n    `;
      failures++;
    } else if (status === 'not-measured') {
      body = `\n      <failure message="${escape(b.reason ?? 'not measured')}" type="budget-not-measured">${escape(b.reason ?? '')}</failure>\n    `;
      failures++;
    }
    cases.push(`    <testcase classname="model-audit.budgets" name="${escape(`${b.name}: ${b.description}`)}" time="0">${body}</testcase>`);
  }
  for (const [step, record] of Object.entries(report.steps)) {
    if (record?.status !== 'errored') continue;
    errors++;
    cases.push(
      `    <testcase classname="model-audit.steps" name="${escape(step)}" time="${(record.durationMs / 1000).toFixed(3)}">\n      <error message="${escape(record.error?.message ?? '')}" type="${escape(record.error?.name ?? 'Error')}"/>\n    </testcase>`,
    );
  }
  const tests = cases.length;
  // Findings are not test failures (budgets decide those), but they are never left out: they head
  // the suite's name and its output.
  const findings = (report.findings ?? []).map((f) => `${f.kind} (${f.step}): ${f.summary}`);
  const headline = `${budgetsHeadline(report.budgets)} · ${findingsHeadline(report)}${report.complete === false ? ' · incomplete' : ''}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="model-audit" tests="${tests}" failures="${failures}" errors="${errors}" time="${(report.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="${escape(`${name} — ${headline}`)}" tests="${tests}" failures="${failures}" errors="${errors}" time="${(report.durationMs / 1000).toFixed(3)}" timestamp="${report.createdAt}">`,
    ...cases,
    ...(findings.length ? [`    <system-out>${escape(['Findings:', ...findings].join('\n'))}</system-out>`] : []),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
