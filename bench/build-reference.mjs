#!/usr/bin/env node
// Compiles the two reference loops into build/bench/ (git-ignored):
//   node bench/build-reference.mjs
// Plain g++ -O2 -std=c++17; the runtimes are dlopen'ed at run time, so only their headers are used.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDir, outDir, ortInclude, referenceBinary, tfliteInclude } from './paths.mjs';

const common = path.join(benchDir, 'reference', 'common.h');
const targets = [
  { source: path.join(benchDir, 'reference', 'ort_loop.cc'), include: ortInclude, output: referenceBinary.onnx },
  { source: path.join(benchDir, 'reference', 'tflite_loop.cc'), include: tfliteInclude, output: referenceBinary.tflite },
];

/** A file's mtime in ms, or -1 when it does not exist. */
export const mtime = (file) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
};

export function compileCommand(t) {
  return ['g++', '-O2', '-std=c++17', '-Wall', '-Wextra', `-I${t.include}`, t.source, '-o', t.output, '-ldl', '-lpthread'];
}

/** Builds whatever is missing or older than its sources; `force` rebuilds everything. */
export function buildReference({ force = false, quiet = false } = {}) {
  mkdirSync(outDir, { recursive: true });
  for (const t of targets) {
    if (!force && mtime(t.output) > Math.max(mtime(t.source), mtime(common))) continue;
    const [cmd, ...args] = compileCommand(t);
    if (!quiet) console.error(`$ ${cmd} ${args.join(' ')}`);
    execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return referenceBinary;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildReference({ force: true });
  console.log(`built ${referenceBinary.onnx} and ${referenceBinary.tflite}`);
}
