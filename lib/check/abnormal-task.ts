/**
 * The abnormal-input step's child task: runs one set of feeds, handed to the runtime as they are
 * (model-audit's own checks would refuse most of them), and says what came out.
 */
import type { Task } from '../isolate/protocol.js';
import { serializeError, type SerializedError } from '../isolate/protocol.js';
import { sessionOf } from '../model/access.js';
import { toOutputs, type Model, type Outputs } from '../model/model.js';
import type { NativeFeed } from '../native.js';

/** One set of feeds to run: checked by model-audit first, or handed to the runtime as they are. */
export interface FeedItem {
  name: string;
  /** Inputs by name (checked) or in model order as raw native feeds (`raw: true`). */
  feeds: Record<string, unknown> | NativeFeed[];
  raw: boolean;
  returnOutputs: boolean;
}

export interface OutputFiniteness {
  name: string;
  elements: number;
  nan: number;
  posInf: number;
  negInf: number;
}

export type FeedResult =
  | { status: 'completed'; finiteness: OutputFiniteness[]; outputs: Outputs | null; runMs: number }
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

function runFeeds(item: FeedItem, model: Model): FeedResult {
  const started = process.hrtime.bigint();
  try {
    const outputs = item.raw ? toOutputs(sessionOf(model).runSync(item.feeds as NativeFeed[])) : model.runSync(item.feeds as Parameters<Model['runSync']>[0]);
    const runMs = Number(process.hrtime.bigint() - started) / 1e6;
    return { status: 'completed', finiteness: finitenessOf(outputs), outputs: item.returnOutputs ? outputs : null, runMs };
  } catch (err) {
    const e = serializeError(err);
    // A feed error with no words from the runtime was refused by model-audit's own checks.
    const rejectedBy = e.code === 'ERR_FEED' && !e.runtimeMessage ? 'model-audit' : 'runtime';
    return { status: 'rejected', error: e, rejectedBy };
  }
}

export const feedsTask: Task = (item, { model }) => runFeeds(item as FeedItem, model!);
