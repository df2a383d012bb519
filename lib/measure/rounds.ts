/**
 * Interleaved rounds: several things timed in turn, every round running each once in a new seeded
 * order, so that what the machine does during the run (a slow state, a neighbour, a frequency
 * change) falls on all of them alike and their per-round figures can be compared pairwise. The
 * sensitivity verdict and compare-models both stand on this.
 */
import { OptionsError } from '../errors.js';
import type { NativeFeed, NativeLoopOptions, NativeSession } from '../native.js';
import { SeededRandom } from '../tensor/tensor.js';
import { msToNs } from '../units.js';

export interface RoundEntry {
  key: string;
  session: NativeSession;
  feedSets: NativeFeed[][];
}

export interface RoundOptions {
  rounds: number;
  /** Timed steady state of one entry in one round. */
  roundMs: number;
  /** Untimed inferences before each entry's timed part of a round. */
  warmupIterations: number;
  /** Pin the measuring thread (null: not pinned). */
  cpu: number | null;
}

/**
 * Refuses a number of paired rounds that can never give p < alpha: with n rounds the signed-rank
 * test cannot give p below 2 / 2^n. `option` names the option in the error.
 */
export function checkRoundsReachAlpha(rounds: number, alpha: number, option: string): void {
  if (2 / 2 ** rounds < alpha) return;
  const fewest = Math.ceil(Math.log2(2 / alpha) + 1e-9);
  throw new OptionsError(`${option}: ${rounds} rounds can never reach p < ${alpha} (the smallest p of ${rounds} paired rounds is ${(2 / 2 ** rounds).toPrecision(2)}); give at least ${fewest}`, { option, kind: 'range' });
}

/** Native loop options for a plain timed loop: a fixed warm-up, then `iterations` or `durationMs`, nothing counted. */
export function plainLoopOptions(o: { warmupIterations: number; iterations?: number; durationMs?: number; cpu: number | null }): NativeLoopOptions {
  return {
    warmupIterations: o.warmupIterations,
    warmupDurationNs: 0,
    warmupUntilStable: false,
    warmupBatchSize: 1,
    warmupTolerance: 0,
    warmupMaxIterations: o.warmupIterations + 1,
    warmupMaxDurationNs: msToNs(60_000),
    iterations: o.iterations ?? 0,
    durationNs: msToNs(o.durationMs ?? 0),
    maxSamples: o.iterations ?? 2_000_000,
    cpu: o.cpu ?? -1,
    countSteadyState: false,
    memoryIterations: 0,
    measureHarness: false,
    shuffle: false,
    shuffleSeed: 0,
  };
}

function shuffled<T>(items: T[], random: SeededRandom): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.nextInt(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface RoundsResult {
  /** Every sample of an entry, all rounds together. */
  pooled(key: string): Float64Array;
  /** An entry's samples in each round, in round order. */
  perRound(key: string): Float64Array[];
}

/** Runs the entries in `rounds` interleaved rounds, in a new order each round (seeded). */
export async function interleavedRounds(entries: RoundEntry[], o: RoundOptions, seed: number): Promise<RoundsResult> {
  const random = new SeededRandom(seed);
  const samples = new Map(entries.map((e) => [e.key, [] as Float64Array[]]));
  const loop = plainLoopOptions({ warmupIterations: o.warmupIterations, durationMs: o.roundMs, cpu: o.cpu });
  for (let round = 0; round < o.rounds; round++) {
    for (const e of shuffled(entries, random)) {
      const raw = await e.session.benchmark(e.feedSets, loop);
      if (raw.error) throw raw.error;
      samples.get(e.key)!.push(raw.samplesNs);
    }
  }
  return {
    pooled(key) {
      const parts = samples.get(key)!;
      const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      return all;
    },
    perRound: (key) => samples.get(key)!,
  };
}
