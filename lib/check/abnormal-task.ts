/**
 * The abnormal-input step's child task: runs one set of feeds, handed to the runtime as they are
 * (model-audit's own checks would refuse most of them), and says what came out.
 */
import type { Task } from '../isolate/protocol.js';
import { serializeError, type SerializedError } from '../isolate/protocol.js';
import { sessionOf } from '../model/access.js';
import { toOutputs, type Outputs } from '../model/calls.js';
import type { Model } from '../model/model.js';
import type { NativeFeed } from '../native.js';
import { summarize } from '../stats/summary.js';

/** One set of feeds to run: checked by model-audit first, or handed to the runtime as they are. */
export interface FeedItem {
  name: string;
  /** Inputs by name (checked) or in model order as raw native feeds (`raw: true`). */
  feeds: Record<string, unknown> | NativeFeed[];
  raw: boolean;
  returnOutputs: boolean;
  /** After a run that completed: time this many more, natively, for the case's latency (0: do not). */
  timedIterations: number;
  /** Ordinary values of the same shapes, timed alternately with the case in one loop (so both see the same machine). */
  baselineFeeds?: NativeFeed[] | null;
}

/** A case's latency, from a short native loop in the child (unpinned unless the child is). */
export interface CaseLatency {
  count: number;
  p50Ns: number;
  p50LowNs: number;
  p50HighNs: number;
}

export interface OutputFiniteness {
  name: string;
  elements: number;
  nan: number;
  posInf: number;
  negInf: number;
}

export type FeedResult =
  | { status: 'completed'; finiteness: OutputFiniteness[]; outputs: Outputs | null; runMs: number; latency: CaseLatency | null; baselineLatency: CaseLatency | null }
  | { status: 'rejected'; error: SerializedError; rejectedBy: 'model-audit' | 'runtime' };

export function finitenessOf(outputs: Outputs): OutputFiniteness[] {
  return Object.entries(outputs).map(([name, t]) => {
    let nan = 0;
    let posInf = 0;
    let negInf = 0;
    if (t.dtype === 'float32' || t.dtype === 'float64') {
      for (const v of t.data as Float32Array) {
        if (Number.isNaN(v)) nan++;
        else if (v === Infinity) posInf++;
        else if (v === -Infinity) negInf++;
      }
    } else if (t.dtype === 'float16') {
      for (const bits of t.data as Uint16Array) {
        if ((bits & 0x7c00) === 0x7c00) {
          if (bits & 0x3ff) nan++;
          else if (bits & 0x8000) negInf++;
          else posInf++;
        }
      }
    }
    return { name, elements: t.data.length, nan, posInf, negInf };
  });
}

/** Times the case, alternating inference by inference with the baseline's feeds when given. */
async function timeCase(model: Model, feeds: NativeFeed[], baseline: NativeFeed[] | null, iterations: number): Promise<{ latency: CaseLatency | null; baselineLatency: CaseLatency | null }> {
  const sets = baseline ? [feeds, baseline] : [feeds];
  const total = iterations * sets.length;
  const raw = await sessionOf(model).benchmark(sets, {
    warmupIterations: Math.min(5, iterations),
    warmupDurationNs: 0,
    warmupUntilStable: false,
    warmupBatchSize: 1,
    warmupTolerance: 0,
    warmupMaxIterations: total,
    warmupMaxDurationNs: 10_000_000_000,
    iterations: total,
    durationNs: 0,
    maxSamples: total,
    cpu: -1,
    countSteadyState: false,
    memoryIterations: 0,
    measureHarness: false,
    shuffle: false,
    shuffleSeed: 0,
  });
  if (raw.error || raw.samplesNs.length === 0) return { latency: null, baselineLatency: null };
  const of = (set: number): CaseLatency | null => {
    const samples = sets.length === 1 ? raw.samplesNs : raw.samplesNs.filter((_, i) => raw.sets[i] === set);
    if (samples.length === 0) return null;
    const s = summarize(samples);
    return { count: s.count, p50Ns: s.p50Ns, p50LowNs: s.p50IntervalNs.lowNs, p50HighNs: s.p50IntervalNs.highNs };
  };
  return { latency: of(0), baselineLatency: baseline ? of(1) : null };
}

async function runFeeds(item: FeedItem, model: Model): Promise<FeedResult> {
  const started = process.hrtime.bigint();
  // Raw cases go to the runtime as they are: what it does with inputs it would die on (which
  // model-audit refuses elsewhere) is what this step reports.
  if (item.raw) sessionOf(model).setInputGuard(false);
  try {
    const outputs = item.raw ? toOutputs(sessionOf(model).runSync(item.feeds as NativeFeed[])) : model.runSync(item.feeds as Parameters<Model['runSync']>[0]);
    const runMs = Number(process.hrtime.bigint() - started) / 1e6;
    const timed = item.raw && item.timedIterations > 0 ? await timeCase(model, item.feeds as NativeFeed[], item.baselineFeeds ?? null, item.timedIterations) : { latency: null, baselineLatency: null };
    return { status: 'completed', finiteness: finitenessOf(outputs), outputs: item.returnOutputs ? outputs : null, runMs, ...timed };
  } catch (err) {
    const e = serializeError(err);
    // A feed error with no words from the runtime was refused by model-audit's own checks.
    const rejectedBy = e.code === 'ERR_FEED' && !e.runtimeMessage ? 'model-audit' : 'runtime';
    return { status: 'rejected', error: e, rejectedBy };
  } finally {
    if (item.raw) sessionOf(model).setInputGuard(true);
  }
}

export const feedsTask: Task = (item, { model }) => runFeeds(item as FeedItem, model!);
