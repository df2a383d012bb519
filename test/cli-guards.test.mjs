// What the command checks before it measures, what it keeps when something fails part-way, what
// it does with dynamic shapes, and findings that budgets do not cover.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { buildOnnxModel } from '../dist/testing/index.js';
import { modelPath } from './helpers.mjs';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-guards-'));
  chmodSync(dir, 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args, options = {}) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 120_000, ...options });
}

/** A usage error: exit 2, one line naming the problem, no stack trace. */
function assertUsageError(r, pattern) {
  assert.equal(r.status, 2, `exit ${r.status} (${r.signal ?? ''}): ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(r.stdout, /Latency/, 'nothing was measured');
}

describe('--out is checked before anything is measured', () => {
  const model = modelPath('alexa_v0.1', 'onnx');

  it('refuses a file', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    assertUsageError(run(['run', model, '--out', file]), /--out .*a-file is a file/);
  });

  it('refuses a folder whose parent does not exist', () => {
    assertUsageError(run(['run', model, '--out', join(dir, 'missing', 'out')]), /parent folder .*missing does not exist/);
  });

  it('refuses /proc and /sys without touching them', () => {
    assertUsageError(run(['run', model, '--out', '/proc/x']), /under \/proc/);
    assertUsageError(run(['run', model, '--out', '/sys/kernel/x']), /under \/sys/);
  });

  it('refuses a folder it cannot write', () => {
    const readOnly = join(dir, 'read-only');
    mkdirSync(readOnly, { mode: 0o555 });
    // root writes anywhere: as root, run the command as nobody so that permissions apply.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534, env: { ...process.env, CI: 'true', HOME: dir } } : {};
    assertUsageError(run(['run', model, '--out', join(readOnly, 'out')], asUser), /cannot be created \(EACCES\)|not writable/);
    assertUsageError(run(['run', model, '--out', readOnly], asUser), /not writable/);
  });

  it('refuses a CPU this process may not use', () => {
    assertUsageError(run(['run', model, '--cpu', '4095', '--out', join(dir, 'cpu')]), /a CPU this process may run on .* for --cpu/);
  });
});

describe('nothing measured is lost', () => {
  it('a SIGKILL during the soak leaves report.json with every step that had finished', async () => {
    const out = join(dir, 'killed');
    const child = spawn(process.execPath, [cli, 'run', modelPath('hey_jarvis_v0.1', 'tflite'), '--out', out, '-q', '--steps', 'latency,soak', '--iterations', '2000'], {
      env: { ...process.env, CI: 'true' },
      stdio: 'ignore',
    });
    const json = join(out, 'report.json');
    // The latency step ends in well under a second; the soak would run a minute.
    for (let waited = 0; !existsSync(json) && waited < 60_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    assert.equal(child.signalCode, 'SIGKILL');
    const report = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(report.complete, false);
    assert.equal(report.steps.latency.status, 'completed');
    assert.ok(report.steps.latency.result.summary.count >= 2000);
    assert.equal(report.steps.soak, undefined, 'the soak had not finished');
    assert.match(readFileSync(json, 'utf8'), /\n$/, 'a whole file, not half of one');
  });

  it('when the folder is gone at the end, the report goes to a fallback file and the exit code says so', async () => {
    const out = join(dir, 'vanishing');
    const child = spawn(process.execPath, [cli, 'run', modelPath('hey_jarvis_v0.1', 'onnx'), '--out', out, '-q', '--steps', 'latency,throughput'], {
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    for (let waited = 0; !existsSync(join(out, 'report.json')) && waited < 60_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    rmSync(out, { recursive: true, force: true });
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 4, stderr);
    const fallback = /the JSON report is in (\S+)/.exec(stderr)?.[1];
    assert.ok(fallback && existsSync(fallback), stderr);
    const report = JSON.parse(readFileSync(fallback, 'utf8'));
    assert.equal(report.complete, true);
    assert.equal(report.steps.throughput.status, 'completed');
    rmSync(fallback);
  });
});

describe('findings are never hidden by passed budgets', () => {
  let out;
  before(() => {
    out = join(dir, 'crash');
    const config = join(dir, 'crash.yml');
    // TFLite 2.9 divides by zero (SIGFPE) on melspectrogram's zero-size batch: contained in a child.
    writeFileSync(config, 'steps:\n  latency:\n    iterations: 200\n  abnormal:\n    kinds: [zero-size, zeros]\nbudgets:\n  p99LatencyMs: 10000\n');
    const r = run(['run', modelPath('melspectrogram', 'tflite'), '--config', config, '--out', out, '-q']);
    assert.equal(r.status, 0, r.stderr);
  });

  it('the JSON report lists the crash as a finding with its input, kind, signal and phase', () => {
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(report.passed, true);
    const crash = report.findings.find((f) => f.kind === 'crash');
    assert.ok(crash, JSON.stringify(report.findings));
    assert.equal(crash.step, 'abnormal');
    assert.equal(crash.case, 'zero-size');
    assert.equal(crash.signal, 'SIGFPE');
    assert.match(crash.lastPhase, /zero-size/);
  });

  it('Markdown puts the finding beside the passed budgets in the headline, and gives its details', () => {
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(md.split('\n')[0], /budgets passed \(1 of 1\) · 1 finding: crash/);
    assert.match(md, /\*\*crash\*\* \(abnormal\): The runtime crashed \(SIGFPE\) on input "serving_default_input:0", zero-size/);
  });

  it('HTML shows it with text badges (no emoji) and the same details', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /<span class="badge pass">budgets passed \(1 of 1\)<\/span> <span class="badge warn">1 finding: crash<\/span>/);
    assert.match(html, /The runtime crashed \(SIGFPE\) on input &quot;serving_default_input:0&quot;, zero-size/);
    assert.doesNotMatch(html.replace(/<script[\s\S]*?<\/script>/g, ''), /[\u2705\u274c\u26a0]/u);
  });
});

describe('dynamic dimensions', () => {
  it('a model whose inputs are all dynamic runs with no flags, and the report says which dimensions were chosen', () => {
    const path = join(dir, 'dynamic.onnx');
    writeFileSync(
      path,
      buildOnnxModel({
        inputs: [
          { name: 'a', dtype: 'float32', shape: ['rows', 'cols'] },
          { name: 'b', dtype: 'float32', shape: ['rows', 'cols'] },
        ],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['rows', 'cols'] }],
        nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['y'] }],
      }),
    );
    const out = join(dir, 'dynamic');
    const r = run(['run', path, '--out', out, '-q']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.deepEqual(report.inputs.shapes, { a: [1, 1], b: [1, 1] });
    assert.deepEqual(report.inputs.chosen.a, [
      { axis: 0, size: 1, how: 'default' },
      { axis: 1, size: 1, how: 'default' },
    ]);
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /`a` \[1,1\] uniform:-1,1 \(chosen by model-audit: axis 0 = 1 by default, axis 1 = 1 by default\)/);
  });

  it('melspectrogram, which refuses 1 sample, runs with a probed length; --shape sets it', () => {
    const out = join(dir, 'mel');
    const r = run(['run', modelPath('melspectrogram', 'onnx'), '--out', out, '-q', '--steps', 'latency', '--iterations', '50']);
    assert.equal(r.status, 0, r.stderr);
    const probed = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).inputs;
    assert.equal(probed.chosen.input[1].how, 'probed');
    assert.ok(probed.shapes.input[1] >= 400, JSON.stringify(probed));
    const given = run(['run', modelPath('melspectrogram', 'onnx'), '--out', join(dir, 'mel-given'), '-q', '--steps', 'latency', '--iterations', '50', '--shape', 'input=1,1280']);
    assert.equal(given.status, 0, given.stderr);
    const inputs = JSON.parse(readFileSync(join(dir, 'mel-given', 'report.json'), 'utf8')).inputs;
    assert.deepEqual(inputs.shapes.input, [1, 1280]);
    assert.equal(inputs.chosen.input, undefined);
  });

  it('when nothing runs, names every dynamic input at once with the flag and the YAML that fix it', () => {
    // Reshape to a fixed [7]: runs only when the input holds exactly 7 elements.
    const path = join(dir, 'needs-seven.onnx');
    writeFileSync(
      path,
      buildOnnxModel({
        inputs: [
          { name: 'x', dtype: 'float32', shape: ['n'] },
          { name: 'z', dtype: 'float32', shape: ['m', 3] },
        ],
        outputs: [{ name: 'y', dtype: 'float32', shape: [7] }],
        initializers: [{ name: 'shape', dtype: 'int64', shape: [1], data: BigInt64Array.from([7n]) }],
        nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
      }),
    );
    const r = run(['run', path, '--out', join(dir, 'seven')]);
    assertUsageError(r, /inputs with dynamic dimensions: "x" \[\?\] \(n\), "z" \[\?,3\] \(m, \?\)/);
    assert.match(r.stderr, /--shape 'x=N' --shape 'z=N,3'/);
    assert.match(r.stderr, /inputs:\n\s+shapes:\n\s+"x": \[N\]/);
    assert.equal(run(['run', path, '--out', join(dir, 'seven'), '-q', '--shape', 'x=7', '--shape', 'z=1,3', '--steps', 'latency', '--iterations', '20']).status, 0);
  });
});

describe('flags override the configuration keys they mirror', () => {
  it('--threads, --no-arena, --optimization, --seed, --steps and the latency flags reach the report', () => {
    const config = join(dir, 'flags.yml');
    writeFileSync(config, 'open:\n  intraOpThreads: 2\nsteps:\n  latency:\n    durationMs: 5000\n  throughput: {}\n');
    const out = join(dir, 'flags');
    const r = run(['run', modelPath('alexa_v0.1', 'onnx'), '--config', config, '--out', out, '-q', '--threads', '1', '--no-arena', '--optimization', 'basic', '--seed', '7', '--steps', 'latency,memory', '--iterations', '300', '--warmup', '3']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(report.model.options.intraOpThreads, 1);
    assert.equal(report.model.options.cpuMemArena, false);
    assert.equal(report.model.options.graphOptimizationLevel, 'basic');
    assert.equal(report.inputs.seed, 7);
    assert.deepEqual(Object.keys(report.steps), ['latency', 'memory']);
    assert.equal(report.steps.latency.result.summary.count, 300);
    assert.equal(report.steps.latency.result.phases.warmup.iterations, 3);
  });
});

describe('compare of two different models', () => {
  it('warns that they are different models, by their sha256', () => {
    const config = join(dir, 'short.yml');
    writeFileSync(config, 'steps:\n  latency:\n    iterations: 3000\n');
    for (const name of ['alexa_v0.1', 'weather_v0.1']) {
      assert.equal(run(['run', modelPath(name, 'onnx'), '--config', config, '--out', join(dir, name), '-q', '--format', 'json']).status, 0);
    }
    const r = run(['compare', join(dir, 'alexa_v0.1', 'report.json'), join(dir, 'weather_v0.1', 'report.json')]);
    assert.match(r.stdout, /warning: the two reports are of different models: alexa_v0\.1\.onnx \([0-9a-f]{12}\) vs weather_v0\.1\.onnx \([0-9a-f]{12}\)/);
    assert.match(r.stdout, /\| latency p50 \| median of \d+\/\d+ block p50s \| [\d.]+ µs \| [\d.]+ µs \| [+−][\d.]+ % \|/);
  });
});
