#!/usr/bin/env node
// What queueing one microtask costs from idle, the way run() queues its wait for short calls: a
// timer's pause of --pause-ms before every call, the event loop asleep in between, then
// `queueMicrotask(f)` or `settled.then(f)` (a reaction to an already settled promise) and an await
// until f has run; as a floor, the same await with f called directly. Each timed with
// process.hrtime.bigint() from before the queueing to after the await. The ways take turns in
// blocks of --per-block calls, in a fresh random order in every block, and are compared within
// blocks (median over blocks of the difference of block medians, 95 % interval: bench/blocks.mjs).
// No model and no SDK call is timed; the SDK build only names the machine.
//   node bench/queue-from-idle.mjs [--blocks 60] [--per-block 10] [--pause-ms 80] [--seed 1] [--out queue-from-idle]
import { lineLog, median, parseArgs, provenance, provenanceLines, us, writeResult } from './common.mjs';
import { medianInterval, seededBlocks, sorted, quantile } from './blocks.mjs';

const usage = 'usage: node bench/queue-from-idle.mjs [--blocks 60] [--per-block 10] [--pause-ms 80] [--seed 1] [--out queue-from-idle]';
const opts = parseArgs({ blocks: 60, perBlock: 10, pauseMs: 80, seed: 1, out: 'queue-from-idle' }, usage);
const meta = provenance();

const settled = Promise.resolve();
const ways = {
  direct: (f) => f(),
  queueMicrotask: (f) => queueMicrotask(f),
  'settled.then': (f) => {
    void settled.then(f);
  },
};

async function once(queue) {
  let done;
  const ran = new Promise((resolve) => (done = resolve));
  const t0 = process.hrtime.bigint();
  queue(done);
  await ran;
  return Number(process.hrtime.bigint() - t0);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
for (const queue of Object.values(ways)) for (let i = 0; i < 200; i++) await once(queue);

const { shuffle } = seededBlocks(opts.seed);
const blocks = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
for (let b = 0; b < opts.blocks; b++) {
  for (const name of shuffle(Object.keys(ways))) {
    const samples = [];
    for (let i = 0; i < opts.perBlock; i++) {
      if (opts.pauseMs > 0) await sleep(opts.pauseMs);
      samples.push(await once(ways[name]));
    }
    blocks[name].push(samples);
  }
}

const { say, lines } = lineLog();
say(`Queueing a microtask and awaiting it, ${opts.pauseMs} ms after the last call, ${opts.blocks} blocks of ${opts.perBlock} calls a way; µs.`);
say('');
say('| way | p50 | p90 | over `direct` at p50 (95 %) |');
say('| --- | ---: | ---: | ---: |');
const rows = {};
for (const name of Object.keys(ways)) {
  const all = sorted(blocks[name].flat());
  const diff = name === 'direct' ? null : medianInterval(blocks[name].map((s, i) => median(s) - median(blocks.direct[i])));
  rows[name] = { p50Ns: quantile(all, 0.5), p90Ns: quantile(all, 0.9), overDirectNs: diff };
  const d = diff ? `${us(diff.medianNs)} (${us(diff.lowNs)}…${us(diff.highNs)})` : '–';
  say(`| ${name} | ${us(rows[name].p50Ns)} | ${us(rows[name].p90Ns)} | ${d} |`);
}
const then = medianInterval(blocks['settled.then'].map((s, i) => median(s) - median(blocks.queueMicrotask[i])));
say('');
say(`settled.then − queueMicrotask at p50: ${us(then.medianNs)} (${us(then.lowNs)}…${us(then.highNs)}) µs`);
const quiet = provenanceLines(meta, say);
say(`raw results: ${writeResult(opts.out, { ...meta, options: opts, rows, thenOverQueueMicrotask: then, quiet, lines, blocks })}`);
