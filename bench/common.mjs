// Helpers the bench scripts share: input values, the reference child process,
// the SDK run, the machine fingerprint, formatting, and where results are written.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildReference } from './build-reference.mjs';
import { modelPaths, referenceBinary, referenceLibrary, resultsDir, root, sdkDir, sdkEntry, sdkSubpaths, tfliteNodeBinding } from './paths.mjs';

/** The SDK under test (see paths.mjs: the working tree's dist/, or a BENCH_SDK snapshot). */
/** The SDK's root and subpath exports in one namespace. */
export const sdk = Object.assign({}, ...(await Promise.all([sdkEntry, ...sdkSubpaths].map((entry) => import(entry)))));
const { benchmark, environment, openModel, runtimeInfo, synthesizeTensor } = sdk;

const execFileAsync = promisify(execFile);

export { parseArgs } from './args.mjs';

/** The shapes the JavaScript-path benches give the two openWakeWord models with a dynamic input. */
export const jsPathShapes = { melspectrogram: [1, 1280], embedding_model: [1, 76, 32, 1] };

/**
 * An openWakeWord file opened the way the JavaScript-path benches call it (run-paths, hand-offs):
 * the model with one intra-op thread and no allocation counting, seeded feeds (the two models with a
 * dynamic input get a concrete shape), and for an .onnx file `ortRun`, onnxruntime-node's
 * `session.run()` on the same file with the same values (null for .tflite). With `tfliteNode`, for
 * a .tflite file `tfliteNodeRun` is tfjs-tflite-node's own runner on the same file and values (its
 * binding built by bench/build-tflite-node.mjs; one thread, as the model), or `tfliteNodeMissing`
 * says why there is none.
 */
export async function openForJsPaths(name, runtime, options = {}, { tfliteNode = false } = {}) {
  const file = modelPaths(name)[runtime];
  const model = await openModel(file, { intraOpThreads: 1, countAllocations: false, ...options });
  const input = model.inputs[0];
  const shape = input.shape.every((d) => d !== null) ? input.shape : jsPathShapes[name];
  const data = synthesizeTensor('float32', shape, 1).data;
  const feeds = { [input.name]: { data, shape } };
  let session = null;
  let ortRun = null;
  if (runtime === 'onnx') {
    const ort = createRequire(import.meta.url)('onnxruntime-node');
    session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const ortFeeds = { [input.name]: new ort.Tensor('float32', data, shape) };
    ortRun = () => session.run(ortFeeds);
  }
  let tfliteNodeRun = null;
  let tfliteNodeMissing = null;
  if (runtime === 'tflite' && tfliteNode) ({ run: tfliteNodeRun, missing: tfliteNodeMissing } = tfliteNodeRunner(file, data, shape));
  // Model.bind() (an SDK snapshot from before it has none): the input written into the binding's
  // array on every call, as a caller with a new frame does.
  let boundRun = null;
  let boundRunSync = null;
  if (typeof model.bind === 'function') {
    const bound = model.bind({ [input.name]: shape });
    const target = bound.inputs[input.name];
    boundRun = () => {
      target.set(data);
      return bound.run();
    };
    boundRunSync = () => {
      target.set(data);
      return bound.runSync();
    };
  }
  const close = async () => {
    model.close();
    await session?.release();
  };
  return { model, feeds, ortRun, tfliteNodeRun, tfliteNodeMissing, boundRun, boundRunSync, close };
}

/**
 * tfjs-tflite-node's runner as its `predict()` drives it, less the tfjs tensors around it (which need
 * a tfjs backend the package does not bring): the input written into the view the binding keeps,
 * `infer()` (which copies it in, invokes, and copies the outputs out, on the calling thread), and
 * the output view read. The interpreter is made at the model's stored shapes (the binding cannot
 * resize), so a file whose input shape is not `shape` gets no runner.
 */
function tfliteNodeRunner(file, data, shape) {
  let binding;
  try {
    binding = createRequire(import.meta.url)(tfliteNodeBinding);
  } catch (err) {
    return { run: null, missing: `tfjs-tflite-node's binding does not load (${err.message.split('\n')[0]}): node bench/build-tflite-node.mjs builds it` };
  }
  const bytes = readFileSync(file);
  let interpreter;
  try {
    interpreter = new binding.Interpreter(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), { threads: 1 });
  } catch (err) {
    return { run: null, missing: `tfjs-tflite-node's runner refuses the file at its stored shapes (${err.message.split('\n')[0]})` };
  }
  const [input] = interpreter.getInputs();
  const [output] = interpreter.getOutputs();
  const stored = input.shape.split(',').map(Number); // the binding gives the shape as "1,16,96"
  if (stored.length !== shape.length || stored.some((d, i) => d !== shape[i])) {
    return { run: null, missing: `the file's stored input shape [${stored}] is not the timed one [${shape}], and tfjs-tflite-node's runner cannot resize` };
  }
  const view = input.data();
  const run = () => {
    view.set(data);
    interpreter.infer();
    return output.data();
  };
  return { run, missing: null };
}

/** The input every path uses: x[i] = float32(sin(i * 0.37)); the reference loops fill theirs the same way. */
export function benchInput(count) {
  const x = new Float32Array(count);
  for (let i = 0; i < count; i++) x[i] = Math.sin(i * 0.37);
  return x;
}

/** FNV-1a 64 over the bytes, as the reference loops print it (inputFnv1a64). */
export function fnv1a64(typedArray) {
  const bytes = new Uint8Array(typedArray.buffer, typedArray.byteOffset, typedArray.byteLength);
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// Two-sided 95 % Student t quantiles for 1..30 degrees of freedom (beyond: 1.96).
const t975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** Mean and 95 % confidence half-width of the mean (Student t). */
export function meanCi(values) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, halfWidth: NaN, n };
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { mean, halfWidth: (t975[n - 2] ?? 1.96) * (sd / Math.sqrt(n)), sd, n };
}

/** Runs the C++ reference loop in a child process and returns its JSON line. */
export async function runReference(runtime, modelPath, { cpu, iterations, warmup, inputsFile }) {
  buildReference({ quiet: true });
  const args = ['--lib', referenceLibrary[runtime], '--model', modelPath, '--iterations', String(iterations), '--warmup', String(warmup)];
  if (cpu >= 0) args.push('--cpu', String(cpu));
  if (inputsFile) args.push('--inputs', inputsFile);
  const { stdout } = await execFileAsync(referenceBinary[runtime], args, { maxBuffer: 1 << 20 });
  const result = JSON.parse(stdout.trim().split('\n').pop());
  result.command = [path.relative(root, referenceBinary[runtime]), ...args.map((a) => (a.startsWith('/') ? path.relative(root, a) : a))].join(' ');
  return result;
}

/** `--open-options '{"key":value}'`: extra openModel options for the SDK path (default none). */
export function openOptionsFrom(text) {
  if (!text) return {};
  const parsed = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('--open-options must be a JSON object');
  return parsed;
}

/** Opens the model with the SDK, benchmarks it with the given feeds, closes it. */
export async function runSdk(modelPath, feedValues, { cpu, iterations, warmup, openOptions = {} }) {
  const model = await openModel(modelPath, { intraOpThreads: 1, ...openOptions });
  try {
    const feeds = { [model.inputs[0].name]: feedValues };
    const r = await benchmark(model, { iterations, cpu: cpu >= 0 ? cpu : undefined, warmup: { iterations: warmup }, feeds });
    const outputs = await model.run(feeds);
    return {
      p50Ns: r.summary.p50Ns,
      p99Ns: r.summary.p99Ns,
      meanNs: r.summary.meanNs,
      minNs: r.summary.minNs,
      count: r.summary.count,
      runtime: model.runtime,
      version: model.library.version,
      library: model.library.libraryPath,
      output: Array.from(Object.values(outputs)[0].data),
      quality: {
        pinnedCpu: r.quality.pinnedCpu,
        cpusUsed: r.quality.cpusUsed,
        migrations: r.quality.migrations,
        involuntaryContextSwitches: r.quality.involuntaryContextSwitches,
        harnessOverheadNs: r.quality.harnessOverheadNs,
        warnings: r.quality.warnings,
      },
      warmupIterations: r.phases.warmup.iterations,
      openOptions: model.options,
    };
  } finally {
    model.close();
  }
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** One sha256 over every file of dist/ (path and bytes, in sorted order): which compiled SDK ran. */
function distHash() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(path.join(sdkDir, 'dist'));
  const hash = createHash('sha256');
  for (const f of files.sort()) hash.update(path.relative(sdkDir, f)).update('\0').update(readFileSync(f));
  return hash.digest('hex');
}

/** Busy jiffies of the whole machine, and of this process plus its waited-for children. */
function jiffies() {
  const stat = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const machineBusy = stat[0] + stat[1] + stat[2] + stat[5] + stat[6] + stat[7];
  const self = readFileSync('/proc/self/stat', 'utf8');
  const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
  // fields 14-17 (utime stime cutime cstime) are at 11-14 after the command name
  const ours = f[11] + f[12] + f[13] + f[14];
  return { machineBusy, ours, at: process.hrtime.bigint() };
}

/**
 * CPU time other processes (anything but this process and the reference loops it ran) used
 * since `start`: a quiet-machine check. In seconds of CPU, and as a share of one CPU.
 */
export function otherWork(start) {
  const end = jiffies();
  const hz = 100; // USER_HZ on Linux
  const seconds = Math.max(0, end.machineBusy - start.machineBusy - (end.ours - start.ours)) / hz;
  const wall = Number(end.at - start.at) / 1e9;
  return { cpuSeconds: seconds, wallSeconds: wall, shareOfOneCpu: wall > 0 ? seconds / wall : 0 };
}

const isQuiet = (other, limit = 0.05) => other.shareOfOneCpu <= limit || other.cpuSeconds <= 0.03;

/**
 * Runs `fn` and checks that no other process used more than 5 % of a CPU meanwhile; if one did,
 * the result is set aside and `fn` runs again (up to `retries` times). Returns the kept value, the
 * other work seen during it, and the attempts set aside (so a report can say how many).
 */
export async function measureQuietly(fn, { retries = 3 } = {}) {
  const setAside = [];
  for (let attempt = 0; ; attempt++) {
    const start = jiffies();
    const value = await fn();
    const other = otherWork(start);
    if (isQuiet(other) || attempt >= retries) return { value, other, quiet: isQuiet(other), setAside };
    setAside.push({ value, other });
  }
}

/** What ran: the machine (the SDK's environment()), the code state, the exact command. */
export function provenance() {
  const env = environment(runtimeInfo());
  const addon = env.addon.path;
  const snapshot = sdkDir !== root ? JSON.parse(readFileSync(path.join(sdkDir, 'manifest.json'), 'utf8')) : null;
  const distStale = snapshot ? null : newestMtime(path.join(root, 'lib')) > newestMtime(path.join(root, 'dist'));
  if (distStale) console.error('warning: lib/ is newer than dist/ (run `npx tsc -p .` to rebuild the SDK)');
  return {
    // Node's own flags (e.g. --no-memory-reducer) first, as they were given.
    command: [...process.execArgv, ...process.argv.slice(1).map((a, i) => (i === 0 ? path.relative(root, a) : a))].join(' '),
    affinity: env.cpu.allowedCpus,
    environment: env,
    sdk: snapshot ? { snapshot: path.relative(root, sdkDir), takenAt: snapshot.takenAt } : { snapshot: null },
    git: snapshot ? snapshot.git : { commit: git(['rev-parse', 'HEAD']), sdkSourceChanges: git(['status', '--porcelain', '--', 'lib', 'native']) ?? null },
    addonSha256: createHash('sha256').update(readFileSync(addon)).digest('hex'),
    distSha256: distHash(),
    distStale,
    loadAverageAtStart: os.loadavg(),
    jiffiesAtStart: jiffies(),
  };
}

/** One line describing the machine, for the console and the README. */
export function machineLine(env) {
  const rt = env.runtimes.map((r) => `${r.runtime === 'onnx' ? 'ONNX Runtime' : 'TFLite'} ${r.version}`).join(', ');
  return `${env.cpu.model} (${env.cpu.logicalCpus} logical CPUs, ${env.cpu.physicalCores} cores, SMT ${env.cpu.smt ? 'on' : 'off'}), Linux ${env.os.kernel}, Node ${env.node.version}, ${rt}`;
}

/** One line naming the SDK build that was measured. */
export function codeLine(meta) {
  const dirty = meta.git.sdkSourceChanges ? 'with uncommitted changes in lib/ or native/' : 'clean lib/ and native/';
  const where = meta.sdk.snapshot ? `snapshot ${meta.sdk.snapshot} taken ${meta.sdk.takenAt}, ` : '';
  return `model-audit ${where}${meta.git.commit?.slice(0, 7) ?? '?'} (${dirty}), addon sha256 ${meta.addonSha256.slice(0, 12)}…, dist/ sha256 ${meta.distSha256.slice(0, 12)}…${meta.distStale ? ', dist/ STALE' : ''}`;
}

export const us = (ns) => (ns / 1000).toFixed(2);
export const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} %`;

/** Says (on stderr and in the result) how much other work ran during the bench. */
export function quietCheck(meta, limit = 0.05) {
  const other = otherWork(meta.jiffiesAtStart);
  const line = `other processes used ${other.cpuSeconds.toFixed(2)} CPU-s in ${other.wallSeconds.toFixed(1)} s (${(other.shareOfOneCpu * 100).toFixed(1)} % of one CPU)`;
  // /proc/stat counts in 10 ms jiffies: a few of them over a short run are accounting noise.
  other.quiet = isQuiet(other, limit);
  other.line = other.quiet ? `quiet machine: ${line}` : `machine not idle during the run: ${line}`;
  return other;
}

/**
 * The lines every table ends with: the command (with `note` after it), the machine, the SDK build
 * and the other work seen during the run. Returns the quiet check, for the result file.
 */
export function provenanceLines(meta, say, note = '') {
  const quiet = quietCheck(meta);
  say('');
  say(`Command: ${process.env.BENCH_SDK ? `BENCH_SDK=${process.env.BENCH_SDK} ` : ''}node ${meta.command}${note ? ` ${note}` : ''}`);
  say(`Machine: ${machineLine(meta.environment)}`);
  say(`SDK build: ${codeLine(meta)}`);
  say(quiet.line);
  return quiet;
}

export function writeResult(name, data) {
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.json`);
  const { jiffiesAtStart, ...rest } = data;
  data = { ...rest, loadAverageAtEnd: os.loadavg(), finishedAt: new Date().toISOString() };
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return path.relative(root, file);
}

/** A table's lines: `say(line)` prints one and keeps it, for the result file. */
export function lineLog() {
  const lines = [];
  return {
    lines,
    say(line) {
      console.log(line);
      lines.push(line);
    },
  };
}

/** `k/n (low–high %)`: a count out of n with its exact 95 % interval. */
export function rateWithInterval(k, n) {
  const [lo, hi] = clopperPearson(k, n);
  return `${k}/${n} (${(lo * 100).toFixed(1)}–${(hi * 100).toFixed(1)} %)`;
}

/** Exact binomial 95 % interval of a rate (Clopper–Pearson), by bisection on the binomial tails. */
export function clopperPearson(k, n) {
  const cdf = (p, upTo) => {
    let sum = 0;
    let term = (1 - p) ** n;
    for (let i = 0; i <= upTo; i++) {
      sum += term;
      term *= ((n - i) / (i + 1)) * (p / (1 - p));
    }
    return sum;
  };
  const solve = (f) => {
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (f(mid)) hi = mid;
      else lo = mid;
    }
    return (lo + hi) / 2;
  };
  const lower = k === 0 ? 0 : solve((p) => 1 - cdf(p, k - 1) >= 0.025);
  const upper = k === n ? 1 : solve((p) => cdf(p, k) <= 0.025);
  return [lower, upper];
}
