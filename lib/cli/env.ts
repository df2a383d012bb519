/**
 * `model-audit env`: this machine's fingerprint, and what on it threatens measurements.
 */
import { readFileSync } from 'node:fs';
import { allowedCpus, environment, governorOf, harnessInfo, smtSiblings } from '../system/environment.js';
import { runtimeInfo } from '../system/runtimes.js';
import { exitCodes } from './exit-codes.js';

/** The machine's fingerprint, and what on it threatens measurements. */
export function machineWarnings(): string[] {
  const warnings: string[] = [];
  const cpus = allowedCpus();
  const governors = [...new Set(cpus.map(governorOf).filter((g): g is string => g !== undefined))];
  if (governors.length === 0) warnings.push('No CPU frequency governor is exposed (common in VMs): frequency scaling cannot be ruled out.');
  else if (governors.some((g) => g !== 'performance')) warnings.push(`CPU frequency governor "${governors.join(',')}": "performance" gives steadier numbers.`);
  const [load1] = process.platform === 'linux' ? (readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number) as number[]) : [0];
  if ((load1 ?? 0) > Math.max(0.5, cpus.length - 1)) warnings.push(`Load average ${load1} on ${cpus.length} CPUs: other work competes for the machine.`);
  if (cpus.some((c) => smtSiblings(c).length > 1)) warnings.push('SMT is on: pin measurements to a CPU whose sibling is idle.');
  if (cpus.length < 2) warnings.push('Only one CPU is available to this process: the measuring thread shares it with everything else.');
  return warnings;
}

export function envCommand(flags: { json?: boolean }): number {
  let runtimes: ReturnType<typeof runtimeInfo> = [];
  try {
    runtimes = runtimeInfo();
  } catch (err) {
    console.error(`model-audit: ${(err as Error).message}`);
  }
  const env = environment(runtimes);
  const harness = harnessInfo();
  const warnings = machineWarnings();
  if (flags.json) {
    console.log(JSON.stringify({ environment: env, harness, warnings }, null, 2));
    return exitCodes.ok;
  }
  console.log(`CPU      ${env.cpu.model} (${env.cpu.vendor}, ${env.cpu.architecture})`);
  console.log(`cores    ${env.cpu.physicalCores} physical, ${env.cpu.logicalCpus} logical, SMT ${env.cpu.smt ? 'on' : 'off'}; this process may use ${env.cpu.allowedCpus.join(', ')}`);
  console.log(`ISA      ${env.cpu.isa.join(' ') || '(none of interest)'}`);
  console.log(`kernel   ${env.os.kernel}; memory ${(env.memory.totalBytes / 2 ** 30).toFixed(1)} GiB; Node ${env.node.version}`);
  for (const r of runtimes) console.log(`runtime  ${r.runtime} ${r.version} ${r.libraryPath} sha256 ${r.sha256.slice(0, 16)}…`);
  console.log(`clock    CLOCK_MONOTONIC_RAW, resolution ${harness.clockResolutionNs} ns, read cost ${harness.clockReadCostNs.toFixed(1)} ns; harness cost ${harness.harnessOverheadNs} ns per sample`);
  for (const w of warnings) console.log(`warning  ${w}`);
  return exitCodes.ok;
}

