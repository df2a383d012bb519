#!/usr/bin/env node
// How much the latency of one unchanged loop drifts over time on this machine: runs the C++
// reference loop once for many iterations, keeps every sample, and reports the p50 of consecutive
// blocks. This is the noise floor any SDK-versus-reference comparison has to beat.
//   node bench/drift.mjs [--runtime tflite] [--cpu 1] [--iterations 200000] [--out drift]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildReference } from './build-reference.mjs';
import { codeLine, machineLine, measureQuietly, parseArgs, provenance, quietCheck, us, writeResult } from './common.mjs';
import { modelPaths, outDir, referenceBinary, referenceLibrary, root } from './paths.mjs';

const opts = parseArgs({ runtime: 'tflite', cpu: 1, iterations: 200000, out: 'drift' }, 'usage: node bench/drift.mjs [--runtime tflite|onnx] [--cpu 1] [--iterations 200000] [--out drift]');
const meta = provenance();
buildReference({ quiet: true });
const samplesFile = path.join(outDir, `drift-samples-${opts.runtime}.txt`);
const args = ['--lib', referenceLibrary[opts.runtime], '--model', modelPaths('hey_jarvis_v0.1')[opts.runtime], '--cpu', String(opts.cpu), '--iterations', String(opts.iterations), '--samples-out', samplesFile];
const { value: stdout, other } = await measureQuietly(() => execFileSync(referenceBinary[opts.runtime], args, { encoding: 'utf8' }));
const whole = JSON.parse(stdout.trim());
const samples = readFileSync(samplesFile, 'utf8').trim().split('\n').map(Number);

const p50 = (xs) => Float64Array.from(xs).sort()[Math.ceil(xs.length / 2) - 1];
const blocks = {};
for (const size of [1000, 5000, 10000, 50000]) {
  const medians = [];
  for (let i = 0; i + size <= samples.length; i += size) medians.push(p50(samples.slice(i, i + size)));
  const lo = Math.min(...medians);
  const hi = Math.max(...medians);
  // Successive blocks: how far one block's p50 typically is from the next one's.
  const steps = medians.slice(1).map((m, i) => Math.abs(m / medians[i] - 1)).sort((a, b) => a - b);
  blocks[size] = { count: medians.length, minNs: lo, maxNs: hi, spread: hi / lo - 1, medianStep: steps[Math.floor(steps.length / 2)] ?? NaN, mediansNs: medians };
}

const quiet = quietCheck(meta);
const file = writeResult(opts.out, { ...meta, otherWork: quiet, measurementOtherWork: other, options: opts, whole, blocks });
const runMs = (whole.meanNs * whole.count) / 1e6;
console.log(`Machine: ${machineLine(meta.environment)}`);
console.log(`Command: node ${meta.command}  (one ${path.relative(root, referenceBinary[opts.runtime])} process, hey_jarvis_v0.1, ${opts.iterations} runs ≈ ${(runMs / 1000).toFixed(1)} s, CPU ${opts.cpu}; whole-run p50 ${us(whole.p50Ns)} µs)\n`);
console.log('| block of consecutive runs | blocks | lowest block p50 | highest block p50 | spread | median change from one block to the next |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [size, b] of Object.entries(blocks)) {
  console.log(`| ${size} runs (≈ ${((size * whole.meanNs) / 1e6).toFixed(0)} ms) | ${b.count} | ${us(b.minNs)} µs | ${us(b.maxNs)} µs | ${(b.spread * 100).toFixed(1)} % | ${(b.medianStep * 100).toFixed(2)} % |`);
}
console.log(`SDK build (not used by this measurement): ${codeLine(meta)}`);
console.log(other.shareOfOneCpu <= 0.05 || other.cpuSeconds <= 0.03 ? 'quiet machine during the loop' : `machine not idle during the loop: others used ${other.cpuSeconds.toFixed(2)} CPU-s`);
console.log(`raw results: ${file}`);
