/**
 * profile(): where a model's time goes, per node and per operator type. A separate pass on a
 * second session with the runtime's profiler on — never the session the latency step times — and
 * beside it the same runs unprofiled, so that the profiler's own cost is in the result.
 *
 * ONNX Runtime: its profiler (EnableProfiling before the session is created, SessionEndProfiling
 * after the runs) writes a Chrome-trace file; each run is a `model_run` event and each node a
 * `<name>_kernel_time` event in category `Node`, with its op type, provider and shapes. The trace's
 * times are whole microseconds. Nodes run inside a control-flow node (an If's branch) are nested in
 * its event and counted in it, not twice.
 *
 * TFLite: the C API of the library the SDK loads (2.9) has no profiler. The profiled session carries
 * a delegate of the addon's own that claims no node but points every node's invoke entry at a
 * timer around the kernel's own (native/runtime/tflite_kernel_timer.h); it writes the same trace
 * format, with times to the nanosecond. XNNPack's delegate hides its nodes, so a model opened with
 * xnnpack: true is refused, as is a library other than 2.9 (the timer is built on its structures).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OptionsError, UnsupportedConfigurationError } from '../errors.js';
import { inputOptionKeys, measurementFeeds, validateInputOptions, type InputDescription, type InputOptions } from '../inputs/feed-sets.js';
import { sessionOf, specOf } from '../model/access.js';
import { openProfiledSession, type Model, type ModelDescription } from '../model/model.js';
import type { NativeSession } from '../native.js';
import { percentileOfSorted, sortedCopy, summarize } from '../stats/summary.js';
import { environment, type Environment } from '../system/environment.js';
import { checkCpu, checkInteger, checkKnownKeys, checkObject, checkString } from '../validate.js';
import { plainLoopOptions } from './rounds.js';

export interface ProfileOptions extends InputOptions {
  /** Profiled runs (after the warm-up). @default 100 */
  runs?: number;
  /** Runs before them, left out of the profile. @default 10 */
  warmupRuns?: number;
  /** Pin the thread that runs the model. @default not pinned */
  cpu?: number;
  /** Copy the runtime's trace (Chrome trace format: chrome://tracing, Perfetto) to this file. @default not kept */
  traceFile?: string;
}

export const profileDefaults = Object.freeze({ runs: 100, warmupRuns: 10 });

export interface NodeProfile {
  name: string;
  opType: string;
  /** What ran the node: the execution provider (ONNX Runtime), or `builtin` / `custom` (TFLite's own kernel, a custom op). */
  provider: string;
  inputShapes: number[][];
  outputShapes: number[][];
  /** Times the node ran in the profiled runs (a node in an If branch runs only when taken). */
  calls: number;
  totalNs: number;
  meanNs: number;
  p50Ns: number;
  /** Its typical time in one run: p50 × calls / runs (a median, so that a run preempted inside the node does not inflate it). */
  perRunNs: number;
  /** perRunNs over the median profiled run. */
  share: number;
}

export interface OpTypeProfile {
  opType: string;
  nodes: number;
  calls: number;
  totalNs: number;
  /** The sum of its nodes' perRunNs. */
  perRunNs: number;
  share: number;
}

export interface ProfileResult {
  kind: 'profile';
  model: ModelDescription;
  inputs: InputDescription;
  runs: number;
  /** Median profiled run (the runtime's own run event). */
  profiledRunP50Ns: number;
  /** Median of the same number of runs on the model itself, unprofiled. */
  unprofiledP50Ns: number;
  /** profiledRunP50Ns / unprofiledP50Ns: what the profiler itself costs. */
  overheadRatio: number;
  /** The nodes' typical times per run, summed, over the median profiled run: what the per-node times account for. */
  nodeSumRatio: number;
  /** Every node, by total time, largest first. */
  nodes: NodeProfile[];
  /** Every operator type, by total time, largest first. */
  opTypes: OpTypeProfile[];
  /** The copy of the trace, when `traceFile` was given. */
  traceFile: string | null;
  /** What to keep in mind reading the figures. */
  notes: string[];
  environment: Environment;
}

interface TraceEvent {
  cat?: string;
  name: string;
  ts: number;
  dur: number;
  tid?: number;
  args?: Record<string, unknown>;
}

const keys = [...inputOptionKeys, 'runs', 'warmupRuns', 'cpu', 'traceFile'];

function shapesOf(value: unknown): number[][] {
  if (!Array.isArray(value)) return [];
  return value.map((entry) => {
    const dims = entry && typeof entry === 'object' ? Object.values(entry as Record<string, unknown>)[0] : null;
    return Array.isArray(dims) ? dims.map(Number) : [];
  });
}

/** Reads a trace (ONNX Runtime's, or the TFLite kernel timer's): the runs after the first `skip`, and the top-level nodes inside them. */
export function readTrace(events: TraceEvent[], skip: number): { runsUs: number[]; nodes: (TraceEvent & { run: number })[] } {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts).slice(skip);
  const nodeEvents = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time')).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const nodes: (TraceEvent & { run: number })[] = [];
  let r = 0;
  let open: TraceEvent | null = null; // the last top-level node: events inside it are nested (a branch's nodes)
  for (const e of nodeEvents) {
    while (r < runs.length && runs[r]!.ts + runs[r]!.dur < e.ts) r++;
    if (r >= runs.length) break;
    const run = runs[r]!;
    if (e.ts < run.ts) continue; // a warm-up run's node
    if (open && e.ts >= open.ts && e.ts + e.dur <= open.ts + open.dur && e.tid === open.tid) continue;
    open = e;
    nodes.push({ ...e, run: r });
  }
  return { runsUs: runs.map((x) => x.dur), nodes };
}

/**
 * Profiles the model: per node and per operator type, over `runs` runs of a second session with
 * the runtime's profiler on, beside the same runs unprofiled.
 *
 * @throws UnsupportedConfigurationError where per-node times cannot be had (a TFLite model opened with
 *   XNNPack, a TFLite library other than 2.9, a graph another delegate runs)
 */
export async function profile(model: Model, options: ProfileOptions = {}): Promise<ProfileResult> {
  const o = checkObject('options', options) ?? {};
  checkKnownKeys('options', o, keys);
  const runs = checkInteger('options.runs', o.runs, 1, 100_000) ?? profileDefaults.runs;
  const warmupRuns = checkInteger('options.warmupRuns', o.warmupRuns, 0, 100_000) ?? profileDefaults.warmupRuns;
  const cpu = checkCpu('options.cpu', o.cpu) ?? null;
  const traceFile = checkString('options.traceFile', o.traceFile) ?? null;
  const { feedSets, description } = measurementFeeds(model, validateInputOptions(o, 'options'), 'options');
  const session = sessionOf(model);
  const spec = specOf(model);
  if (model.runtime === 'tflite' && spec.options.xnnpack) {
    throw new UnsupportedConfigurationError(
      'per-operator times cannot be had with the XNNPack delegate: it runs the graph (or its supported parts) as delegate nodes whose insides TFLite cannot see; profile the model opened with xnnpack: false to time TFLite\'s own kernels',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'model-audit-profile-'));
  let profiled: NativeSession | null = null;
  try {
    profiled = await openProfiledSession(spec, join(dir, 'trace'));
    const raw = await profiled.benchmark(feedSets, plainLoopOptions({ warmupIterations: warmupRuns, iterations: runs, cpu }));
    if (raw.error) throw raw.error;
    const file = profiled.endProfiling();
    const unprofiled = await session.benchmark(feedSets, plainLoopOptions({ warmupIterations: warmupRuns, iterations: runs, cpu }));
    if (unprofiled.error) throw unprofiled.error;
    let events: TraceEvent[];
    try {
      events = JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[];
    } catch (err) {
      throw new UnsupportedConfigurationError(`the profile ${file} could not be read: ${(err as Error).message}`);
    }
    if (traceFile) {
      try {
        copyFileSync(file, traceFile);
      } catch (err) {
        throw new OptionsError(`options.traceFile: cannot write ${traceFile}: ${(err as Error).message}`, { option: 'options.traceFile', kind: 'range' });
      }
    }
    // The loop's warm-up and its first run (outside the timed samples) come before the profiled runs.
    const trace = readTrace(events, warmupRuns + 1);
    const runCount = Math.max(1, trace.runsUs.length);
    const profiledRunP50Ns = trace.runsUs.length ? percentileOfSorted(sortedCopy(trace.runsUs), 50) * 1000 : NaN;
    const byNode = new Map<string, (TraceEvent & { run: number })[]>();
    for (const e of trace.nodes) {
      const name = e.name.slice(0, -'_kernel_time'.length);
      if (!byNode.has(name)) byNode.set(name, []);
      byNode.get(name)!.push(e);
    }
    const nodes: NodeProfile[] = [...byNode.entries()].map(([name, list]) => {
      const ns = list.map((e) => e.dur * 1000);
      const total = ns.reduce((a, b) => a + b, 0);
      const args = list[0]!.args ?? {};
      const p50Ns = percentileOfSorted(sortedCopy(ns), 50);
      const perRunNs = (p50Ns * list.length) / runCount;
      return {
        name,
        opType: String(args.op_name ?? '?'),
        provider: String(args.provider ?? '?'),
        inputShapes: shapesOf(args.input_type_shape),
        outputShapes: shapesOf(args.output_type_shape),
        calls: list.length,
        totalNs: total,
        meanNs: total / list.length,
        p50Ns,
        perRunNs,
        share: profiledRunP50Ns > 0 ? perRunNs / profiledRunP50Ns : 0,
      };
    });
    nodes.sort((a, b) => b.perRunNs - a.perRunNs || a.name.localeCompare(b.name));
    const types = new Map<string, OpTypeProfile>();
    for (const n of nodes) {
      const t = types.get(n.opType) ?? { opType: n.opType, nodes: 0, calls: 0, totalNs: 0, perRunNs: 0, share: 0 };
      t.nodes++;
      t.calls += n.calls;
      t.totalNs += n.totalNs;
      t.perRunNs += n.perRunNs;
      t.share += n.share;
      types.set(n.opType, t);
    }
    const opTypes = [...types.values()].sort((a, b) => b.perRunNs - a.perRunNs || a.opType.localeCompare(b.opType));
    const unprofiledP50Ns = summarize(unprofiled.samplesNs).p50Ns;
    const nodeSumRatio = nodes.reduce((a, n) => a + n.share, 0);
    const overheadRatio = profiledRunP50Ns / unprofiledP50Ns;
    const notes = [
      model.runtime === 'onnx'
        ? "ONNX Runtime's profiler: its trace gives whole microseconds, so a node under 1 µs shows as 0 or 1 µs."
        : "TFLite: model-audit's kernel-timing delegate reads the clock around each of TFLite's own kernels (times to the nanosecond); XNNPack is not used, and TFLite nodes have no names, so each is named by the tensor it writes and its index.",
      `The per-node times account for ${(nodeSumRatio * 100).toFixed(0)} % of the profiled runs; the rest is the runtime's own work between nodes (with profiling on, including the profiler's bookkeeping).`,
      overheadRatio >= 1.1
        ? `Profiling makes a run ${overheadRatio.toFixed(1)}× slower here: read the shares, not the absolute times.`
        : `Profiling costs ${((overheadRatio - 1) * 100).toFixed(0)} % of a run here (the unprofiled runs are the model's own session, timed after the profiled ones).`,
    ];
    if (trace.runsUs.length < runs) notes.push(`${trace.runsUs.length} of ${runs} runs are in the trace (the trace stops at 1,000,000 events).`);
    return {
      kind: 'profile',
      model: model.describe(),
      inputs: description,
      runs: trace.runsUs.length,
      profiledRunP50Ns,
      unprofiledP50Ns,
      overheadRatio,
      nodeSumRatio,
      nodes,
      opTypes,
      traceFile,
      notes,
      environment: environment([model.library]),
    };
  } finally {
    profiled?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
