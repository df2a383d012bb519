// Paired comparisons of call paths measured in interleaved blocks (bench/hand-offs.mjs,
// bench/run-paths.mjs --design blocks): this VM's speed drifts by more than the differences sought
// within seconds, so paths take turns in short blocks, in a fresh random order in every block, and
// are judged by differences within a block.
import { execFileSync } from 'node:child_process';
import { median, sdk } from './common.mjs';

const { SeededRandom, quantileIntervalRanks } = sdk;

export const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
export const sorted = (list) => Float64Array.from(list).sort();

/**
 * `count` awaited calls, each timed alone with process.hrtime.bigint() around it: nanoseconds. With
 * `pauseMs`, each call comes after a timer of that many milliseconds, with the event loop asleep in
 * between, as a service calls a model once per frame of audio: the call starts from an idle
 * process, with the CPUs' caches and the worker cold.
 */
export async function timeCalls(call, count, pauseMs = 0) {
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const t0 = process.hrtime.bigint();
    await call();
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  return samples;
}

/** Median of paired differences and its 95 % distribution-free interval (order statistics). */
export function medianInterval(diffs) {
  const s = sorted(diffs);
  const { low, high } = quantileIntervalRanks(s.length, 0.5);
  return { medianNs: median([...s]), lowNs: s[low - 1], highNs: s[high - 1] };
}

/** The seeded parts: the order of the paths in a block, and the resampling of blocks. */
export function seededBlocks(seed) {
  const random = new SeededRandom(seed);
  return {
    shuffle(list) {
      const out = [...list];
      for (let i = out.length - 1; i > 0; i--) {
        const j = random.nextInt(0, i);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
    /** p99 of a minus p99 of b, both pooled over blocks, with a 95 % interval from resampling blocks. */
    p99Difference(blocksA, blocksB, resamples = 1000) {
      const pooled = (blocks, pick) => sorted(pick.flatMap((i) => [...blocks[i]]));
      const all = blocksA.map((_, i) => i);
      const point = quantile(pooled(blocksA, all), 0.99) - quantile(pooled(blocksB, all), 0.99);
      const boot = new Float64Array(resamples);
      for (let r = 0; r < resamples; r++) {
        const pick = all.map(() => random.nextInt(0, all.length - 1));
        boot[r] = quantile(pooled(blocksA, pick), 0.99) - quantile(pooled(blocksB, pick), 0.99);
      }
      boot.sort();
      return { diffNs: point, lowNs: boot[Math.floor(resamples * 0.025)], highNs: boot[Math.ceil(resamples * 0.975) - 1] };
    },
  };
}

/**
 * Parses --js-cpus ("none" or "A,B") for a blocks design of `blocks` blocks: the two CPUs, null for
 * none, or a reason it is refused. The JS thread is moved between them from block to block, so
 * that every path runs as often with the JS thread on either CPU (this VM's CPUs differ in speed).
 */
export function parseJsCpus(value, blocks, affinity) {
  if (value === 'none') return { cpus: null };
  const cpus = String(value).split(',').map(Number);
  if (blocks % 2 !== 0 || cpus.length !== 2 || !cpus.every((c) => affinity.includes(c))) {
    return { error: `--js-cpus: two CPUs of this process (${affinity.join(',')}), with an even --blocks` };
  }
  return { cpus };
}

/** Pins the JS thread alone (its thread id is the process id) to `cpu`; null: back to `affinity`. */
export function pinJsThread(cpu, affinity) {
  execFileSync('taskset', ['-pc', cpu === null ? affinity.join(',') : String(cpu), String(process.pid)], { stdio: 'ignore' });
}
