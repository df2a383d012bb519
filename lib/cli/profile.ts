/**
 * `model-audit profile MODEL`: where the model's time goes, per operator type and per node, from
 * the runtime's profiler; the trace is written for chrome://tracing or Perfetto.
 */
import { resolve } from 'node:path';
import { profile } from '../measure/profile.js';
import { openModel, type Model } from '../model/model.js';
import { formatNs } from '../units.js';
import { exitCodes } from './exit-codes.js';

export interface ProfileFlags {
  runs?: number;
  cpu?: number;
  threads?: number;
  shape?: Record<string, number[]>;
  input?: Record<string, string>;
  trace?: string;
  json?: boolean;
}

export async function profileCommand(modelPath: string, flags: ProfileFlags): Promise<number> {
  let model: Model | null = null;
  try {
    model = await openModel(modelPath, flags.threads !== undefined ? { intraOpThreads: flags.threads } : {});
    const r = await profile(model, {
      ...(flags.runs !== undefined ? { runs: flags.runs } : {}),
      ...(flags.cpu !== undefined ? { cpu: flags.cpu } : {}),
      ...(flags.shape ? { shapes: flags.shape } : {}),
      ...(flags.input ? { values: flags.input } : {}),
      ...(flags.trace ? { traceFile: resolve(flags.trace) } : {}),
    });
    if (flags.json) {
      console.log(JSON.stringify(r, null, 2));
      return exitCodes.ok;
    }
    console.log(`${modelPath}: ${r.runs} profiled runs, p50 ${formatNs(r.profiledRunP50Ns)} profiled, ${formatNs(r.unprofiledP50Ns)} unprofiled (${r.overheadRatio.toFixed(1)}× the profiler's cost)\n`);
    console.log('| operator type | nodes | share of the run | time per run |\n| --- | --- | --- | --- |');
    for (const t of r.opTypes) console.log(`| ${t.opType} | ${t.nodes} | ${(t.share * 100).toFixed(1)} % | ${formatNs(t.perRunNs)} |`);
    console.log('\n| node | type | provider | output shape | share | mean | p50 |\n| --- | --- | --- | --- | --- | --- | --- |');
    for (const n of r.nodes.slice(0, 20)) {
      console.log(`| ${n.name} | ${n.opType} | ${n.provider} | ${n.outputShapes.map((x) => `[${x.join(',')}]`).join(' ')} | ${(n.share * 100).toFixed(1)} % | ${formatNs(n.meanNs)} | ${formatNs(n.p50Ns)} |`);
    }
    console.log('');
    for (const note of r.notes) console.log(`note: ${note}`);
    if (r.traceFile) console.log(`trace: ${r.traceFile} (chrome://tracing, Perfetto)`);
    return exitCodes.ok;
  } finally {
    model?.close();
  }
}
