#!/usr/bin/env node
// Whether this machine's CPUs run a model at the same speed at the same time: the SDK's native
// benchmark pinned to each CPU in turn, in short pairs (the two halves of a pair in a random order),
// for --pairs pairs. Per pair, the p50 on each CPU and their ratio; over pairs, how often and for how
// long one CPU was more than 10 % slower than the other. bench/run-paths.mjs --js-cpus exists
// because of what this finds on the bench VM: `run()` runs the model on a worker's CPU and
// `runSync()` on the JS thread's, and a difference between the CPUs shows up as one between paths.
//
//   node bench/cpu-asymmetry.mjs [--model melspectrogram] [--runtime tflite] [--iterations 300]
//                                [--pairs 60] [--seed 1] [--out cpu-asymmetry]
import { seededBlocks } from './blocks.mjs';
import { lineLog, machineLine, median, openForJsPaths, parseArgs, provenance, provenanceLines, sdk, writeResult } from './common.mjs';

const usage =
  'usage: node bench/cpu-asymmetry.mjs [--model melspectrogram] [--runtime tflite] [--iterations 300] [--pairs 60] [--seed 1] [--out cpu-asymmetry]';
const opts = parseArgs({ model: 'melspectrogram', runtime: 'tflite', iterations: 300, pairs: 60, seed: 1, out: 'cpu-asymmetry' }, usage);
const meta = provenance();
if (meta.affinity.length < 2) {
  console.error(`this process may use one CPU (${meta.affinity.join(',')}): nothing to compare`);
  process.exit(2);
}
const [cpuA, cpuB] = meta.affinity;
const { benchmark } = sdk;
const { shuffle } = seededBlocks(opts.seed);
console.error(machineLine(meta.environment));
const { lines, say } = lineLog();

const { model, feeds, close } = await openForJsPaths(opts.model, opts.runtime);
const p50On = async (cpu) => (await benchmark(model, { iterations: opts.iterations, warmup: { iterations: 20 }, cpu, feeds })).summary.p50Ns;
const pairs = [];
const started = performance.now();
for (let i = 0; i < opts.pairs; i++) {
  const p = { atMs: performance.now() - started };
  for (const cpu of shuffle([cpuA, cpuB])) p[cpu] = await p50On(cpu);
  p.ratio = p[cpuA] / p[cpuB];
  p.endMs = performance.now() - started;
  pairs.push(p);
}
await close();

// Which CPU was more than 10 % slower in a pair, if one was.
const side = (p) => (p.ratio > 1.1 ? 'A' : p.ratio < 1 / 1.1 ? 'B' : null);
const apart = pairs.filter((p) => side(p) !== null);
// The longest stretch of consecutive pairs with the same CPU more than 10 % slower.
let longest = { pairs: 0, ms: 0 };
for (let i = 0; i < pairs.length; ) {
  const s = side(pairs[i]);
  let j = i + 1;
  while (s && j < pairs.length && side(pairs[j]) === s) j++;
  if (s && j - i > longest.pairs) longest = { pairs: j - i, ms: pairs[j - 1].endMs - pairs[i].atMs };
  i = j;
}
const ratios = pairs.map((p) => p.ratio).sort((a, b) => a - b);
const fmt = (x) => x.toFixed(3);
say(`${opts.model}.${opts.runtime}, ${opts.pairs} pairs of ${opts.iterations} pinned iterations on CPU ${cpuA} and CPU ${cpuB}, over ${((performance.now() - started) / 1000).toFixed(1)} s.`);
say('');
say(`| p50 on CPU ${cpuA} / p50 on CPU ${cpuB}: min | p10 | median | p90 | max | pairs more than 10 % apart | longest stretch with the same CPU slower |`);
say('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
const q = (f) => ratios[Math.min(ratios.length - 1, Math.floor(f * ratios.length))];
say(`| ${fmt(ratios[0])} | ${fmt(q(0.1))} | ${fmt(median(ratios))} | ${fmt(q(0.9))} | ${fmt(ratios[ratios.length - 1])} | ${apart.length} of ${pairs.length} | ${longest.pairs} pairs (${(longest.ms / 1000).toFixed(1)} s) |`);
const quiet = provenanceLines(meta, say, '');
console.error(`raw results: ${writeResult(opts.out, { ...meta, options: opts, otherWork: quiet, pairs, table: lines })}`);
