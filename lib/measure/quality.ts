/**
 * How far a measurement can be trusted: what the clock, the scheduler and the rest of the machine
 * did while it ran, with a plain warning for each thing that threatens the numbers.
 */
import os from 'node:os';
import { busyFractions, governorOf, smtSiblings, type CpuTimes } from '../system/environment.js';
import type { Model } from '../model/model.js';
import type { LatencySummary } from '../stats/summary.js';

export interface ClockQuality {
  source: 'CLOCK_MONOTONIC_RAW';
  /** What clock_getres reports. */
  resolutionNs: number;
  /** Median cost of one clock read, measured on the measuring thread before the loop. */
  readCostNs: number;
  /** Smallest non-zero step seen between two reads. */
  smallestStepNs: number;
}

export interface MeasurementQuality {
  clock: ClockQuality;
  /** Median time the timed loop takes around a call that does nothing: the harness's own cost per sample (included in every sample, never subtracted). */
  harnessOverheadNs: number;
  /** The CPU the measuring thread was pinned to, or null. */
  pinnedCpu: number | null;
  /** CPUs the measuring thread was seen on during the steady state. */
  cpusUsed: number[];
  /** CPU changes seen between iterations. */
  cpuChanges: number;
  /** Migrations counted by the kernel (perf software event); null where unavailable. */
  migrations: number | null;
  voluntaryContextSwitches: number;
  involuntaryContextSwitches: number;
  /** Frequency governor of the CPUs used (null where the kernel exposes no cpufreq, e.g. many VMs). */
  governor: string | null;
  /** Load average (1, 5, 15 min) when the measurement started. */
  loadAverage: [number, number, number];
  /** Busy fraction of every CPU while the measurement ran (the measuring CPU included). */
  cpuBusy: Record<number, number>;
  warnings: string[];
}

export interface QualityInput {
  model: Model;
  clock: ClockQuality;
  harnessOverheadNs: number;
  pinnedCpu: number | null;
  requestedCpu: number | undefined;
  pinError: string;
  cpusUsed: number[];
  cpuChanges: number;
  migrations: number;
  voluntaryContextSwitches: number;
  involuntaryContextSwitches: number;
  loadAverage: number[];
  cpuTimesBefore: CpuTimes | undefined;
  cpuTimesAfter: CpuTimes | undefined;
  summary: LatencySummary;
  hitSampleLimit: boolean;
  /** Allocations per inference when the timed loop was counted, else null. */
  countedWhileTimed: number | null;
}

const percent = (x: number): string => `${Math.round(x * 100)} %`;

export function assessQuality(q: QualityInput): MeasurementQuality {
  const warnings: string[] = [];
  const { summary, model } = q;
  const iterations = summary.count;
  if (q.pinError) warnings.push(`The measuring thread could not be pinned: ${q.pinError}.`);
  if (q.requestedCpu === undefined) {
    warnings.push('The measuring thread was not pinned (the cpu option; --cpu on the command line): the scheduler may move it, and its CPU may be shared.');
  }
  const moved = q.migrations > 0 ? q.migrations : q.cpuChanges;
  if (moved > 0) warnings.push(`The measuring thread moved between CPUs ${moved} time(s) during the steady state (${q.cpusUsed.join(', ')}).`);
  if (iterations > 0 && q.involuntaryContextSwitches > Math.max(2, iterations * 0.001)) {
    warnings.push(
      `The measuring thread was preempted ${q.involuntaryContextSwitches} time(s) in ${iterations} iterations: another thread or process competed for its CPU.`,
    );
  }
  const cpusForGovernor = q.cpusUsed.length > 0 ? q.cpusUsed : [0];
  const governors = [...new Set(cpusForGovernor.map((c) => governorOf(c)).filter((g): g is string => g !== undefined))];
  const governor = governors.length > 0 ? governors.join(',') : null;
  if (governor !== null && governors.some((g) => g !== 'performance')) {
    warnings.push(`CPU frequency governor "${governor}": the clock speed may change during the run; "performance" gives steadier numbers.`);
  }
  const cpus = os.cpus().length;
  const load = [q.loadAverage[0] ?? 0, q.loadAverage[1] ?? 0, q.loadAverage[2] ?? 0] as [number, number, number];
  if (load[0] > Math.max(0.5, cpus - 1)) warnings.push(`Load average ${load[0].toFixed(2)} on ${cpus} CPUs: other work is competing for the machine.`);

  const cpuBusy: Record<number, number> = {};
  if (q.cpuTimesBefore && q.cpuTimesAfter) {
    busyFractions(q.cpuTimesBefore, q.cpuTimesAfter).forEach((f, cpu) => {
      if (!Number.isNaN(f)) cpuBusy[cpu] = Math.round(f * 1000) / 1000;
    });
    const threads = model.options.intraOpThreads;
    // With one inference thread, any other CPU's business is somebody else's work.
    if (threads === 1) {
      const mine = new Set(q.cpusUsed);
      const siblings = q.pinnedCpu === null ? [] : smtSiblings(q.pinnedCpu).filter((c) => c !== q.pinnedCpu);
      for (const [cpuText, busy] of Object.entries(cpuBusy)) {
        const cpu = Number(cpuText);
        if (mine.has(cpu)) continue;
        if (siblings.includes(cpu) && busy > 0.1) {
          warnings.push(`CPU ${cpu}, the SMT sibling of the measuring CPU ${q.pinnedCpu}, was ${percent(busy)} busy: it shares that core's execution units.`);
        } else if (busy > 0.25) {
          warnings.push(`CPU ${cpu} was ${percent(busy)} busy with other work during the measurement (shared caches, memory bandwidth, power).`);
        }
      }
    }
  }
  if (model.runtime === 'onnx' && model.options.intraOpThreads !== 1 && q.requestedCpu !== undefined && model.options.intraOpCpus.length === 0) {
    warnings.push(
      `The measuring thread is pinned but ONNX Runtime runs ${model.options.intraOpThreads === 0 ? 'a default number of' : model.options.intraOpThreads - 1} worker thread(s) that are not: open the model with intraOpCpus to pin them.`,
    );
  }
  if (iterations < 100) warnings.push(`Only ${iterations} steady-state samples: the tail percentiles rest on very few observations.`);
  if (summary.p99IntervalNs.clipped) warnings.push('Too few samples for a 95 % interval around p99 inside the data: its bound is the extreme sample.');
  if (summary.p50Ns > 0 && q.harnessOverheadNs > summary.p50Ns * 0.01) {
    warnings.push(`The harness's own cost (${q.harnessOverheadNs.toFixed(0)} ns per sample) is over 1 % of the median latency.`);
  }
  if (q.clock.resolutionNs > 100) warnings.push(`The clock's resolution is ${q.clock.resolutionNs} ns.`);
  if (q.countedWhileTimed !== null && q.countedWhileTimed > 0) {
    warnings.push(
      `Allocation counting was on while the steady state was timed: each sample includes the counters' cost for ${q.countedWhileTimed.toFixed(1)} allocations.`,
    );
  }
  if (q.hitSampleLimit) warnings.push('The sample buffer (maxSamples) filled before the duration ended; the steady state is shorter than asked.');
  return {
    clock: q.clock,
    harnessOverheadNs: q.harnessOverheadNs,
    pinnedCpu: q.pinnedCpu,
    cpusUsed: q.cpusUsed,
    cpuChanges: q.cpuChanges,
    migrations: q.migrations >= 0 ? q.migrations : null,
    voluntaryContextSwitches: q.voluntaryContextSwitches,
    involuntaryContextSwitches: q.involuntaryContextSwitches,
    governor,
    loadAverage: load,
    cpuBusy,
    warnings,
  };
}
