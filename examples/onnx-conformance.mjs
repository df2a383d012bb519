// Runs the whole ONNX operator conformance suite (Debian's libonnx-testdata) through ONNX Runtime
// and prints the counts, and the cases that failed with why.
//   node examples/onnx-conformance.mjs [--json]
import { runOnnxConformance } from 'model-audit/reference';

const report = await runOnnxConformance();
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const { total, loaded, passed, failed, unloadable, unreadable, undecodable, crashed, hung } = report;
  console.log({ total, loaded, passed, failed, unloadable, unreadable, undecodable, crashed, hung });
  for (const c of report.cases.filter((x) => x.status === 'failed')) console.log(`failed  ${c.name}: ${c.reason}`);
  console.log(`ONNX Runtime ${report.environment.runtimes[0]?.version ?? ''} on ${report.environment.cpu.model}`);
}
