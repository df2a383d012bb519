// profile(): per-node and per-operator-type times, in a pass of its own: ONNX Runtime's profiler, and
// for TFLite the addon's kernel-timing delegate.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { UnsupportedConfigurationError, audit, compareReports, openModel, profile, toMarkdown } from '../dist/index.js';
import { specOf } from '../dist/model/access.js';
import { openProfiledSession } from '../dist/model/model.js';
import { readTrace } from '../dist/measure/profile.js';
import { modelPath, pairs } from './helpers.mjs';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-profile-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));


// The top-level nodes' op types of an ONNX model after ONNX Runtime's optimisations, as
// onnxruntime-node (the same library) saves the optimised graph: what the profile must list.
const onnxModel = protobuf.parse(`syntax = "proto3";
  message NodeProto { string op_type = 4; }
  message GraphProto { repeated NodeProto node = 1; }
  message ModelProto { GraphProto graph = 7; }`).root.lookupType('ModelProto');
async function optimisedOpTypes(path) {
  const out = join(dir, `${Math.random().toString(36).slice(2)}.optimised.onnx`);
  const session = await ort.InferenceSession.create(path, { optimizedModelFilePath: out, graphOptimizationLevel: 'all', intraOpNumThreads: 1, logSeverityLevel: 3 });
  await session.release();
  return onnxModel.decode(readFileSync(out)).graph.node.map((n) => n.opType).sort();
}

describe('profile on ONNX Runtime', () => {
  for (const { name, shapes } of pairs) {
    it(`${name}: every node of every profiled run, once; op types and shares that add up`, async () => {
      const model = await openModel(modelPath(name, 'onnx'), { intraOpThreads: 1 });
      try {
        const r = await profile(model, { runs: 20, warmupRuns: 2, shapes: shapes ? { [model.inputs[0].name]: shapes[0] } : {} });
        assert.equal(r.kind, 'profile');
        assert.equal(r.runs, 20);
        assert.ok(r.nodes.length >= 1);
        // A node outside control flow runs once per run.
        const straight = r.nodes.filter((n) => n.opType !== 'If');
        assert.ok(straight.every((n) => n.calls === 20), JSON.stringify(straight.map((n) => [n.name, n.calls])));
        // Op types: exactly the types of the nodes listed, each counted once per node.
        const types = new Map();
        for (const n of r.nodes) types.set(n.opType, (types.get(n.opType) ?? 0) + 1);
        assert.deepEqual(new Map(r.opTypes.map((t) => [t.opType, t.nodes])), types);
        assert.ok(r.opTypes.every((t) => t.opType !== '?' && t.opType.length > 0));
        const share = r.nodes.reduce((a, n) => a + n.share, 0);
        assert.ok(share > 0 && share < 1.2, `shares sum to ${share}`);
        assert.ok(Math.abs(share - r.nodeSumRatio) < 1e-9);
        assert.ok(r.profiledRunP50Ns > 0 && r.unprofiledP50Ns > 0);
        assert.ok(r.nodes.every((n) => n.provider === 'CPUExecutionProvider'));
        // Exactly the optimised graph's nodes, by op type.
        assert.deepEqual(r.nodes.map((n) => n.opType).sort(), await optimisedOpTypes(modelPath(name, 'onnx')));
      } finally {
        model.close();
      }
    });
  }

  it('a profiled session gives the same outputs as the model unprofiled', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'));
    const session = await openProfiledSession(specOf(model), join(dir, 'outputs'));
    try {
      const feeds = [{ dtype: 'float32', shape: [1, 16, 96], data: Float32Array.from({ length: 16 * 96 }, (_, i) => Math.sin(i)) }];
      const plain = model.runSync({ [model.inputs[0].name]: feeds[0] });
      const profiled = session.runSync(feeds);
      assert.deepEqual(new Float32Array(profiled[0].buffer), Object.values(plain)[0].data);
      assert.ok(existsSync(session.endProfiling()));
    } finally {
      session.close();
      model.close();
    }
  });

  it('writes the trace when asked, in the Chrome trace format', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'onnx'));
    try {
      const traceFile = join(dir, 'alexa.trace.json');
      const r = await profile(model, { runs: 5, traceFile });
      assert.equal(r.traceFile, traceFile);
      const events = JSON.parse(readFileSync(traceFile, 'utf8'));
      assert.ok(events.some((e) => e.name === 'model_run' && e.ph === 'X'));
    } finally {
      model.close();
    }
  });

  it('a trace file it cannot write is an OptionsError naming the file', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'onnx'));
    try {
      const where = join(dir, 'no-such-folder', 'x.trace.json');
      await assert.rejects(profile(model, { runs: 2, traceFile: where }), (e) => e.name === 'OptionsError' && e.message.includes(where));
    } finally {
      model.close();
    }
  });

});

// TFLite's BuiltinOperator codes of the operators in the openWakeWord files, from the schema
// (tensorflow/lite/schema/schema.fbs), written out here so that the profile's names are checked
// against the file's codes by a table other than the addon's.
const builtinCodes = {
  ADD: 0, CONV_2D: 3, LOGISTIC: 14, MAX_POOL_2D: 17, MUL: 18, RESHAPE: 22, SOFTMAX: 25, PAD: 34, TRANSPOSE: 39, MEAN: 40, SUB: 41,
  SQUEEZE: 43, MAXIMUM: 55, MINIMUM: 57, GREATER_EQUAL: 62, EXPAND_DIMS: 70, LOG: 73, RSQRT: 76, REDUCE_MAX: 82, LEAKY_RELU: 98,
  IF: 118, BATCH_MATMUL: 126, FULLY_CONNECTED: 9,
};

/** The builtin codes of the main subgraph's operators, in order, read from the .tflite flatbuffer. */
function tfliteOperatorCodes(path) {
  const b = readFileSync(path);
  const u32 = (at) => b.readUInt32LE(at);
  // A table's field: its position in the buffer, or null when the vtable leaves it out.
  const field = (table, index) => {
    const vtable = table - b.readInt32LE(table);
    const at = 4 + 2 * index;
    if (at >= b.readUInt16LE(vtable)) return null;
    const offset = b.readUInt16LE(vtable + at);
    return offset === 0 ? null : table + offset;
  };
  const tables = (table, index) => {
    const f = field(table, index);
    if (f === null) return [];
    const vector = f + u32(f);
    return Array.from({ length: u32(vector) }, (_, i) => vector + 4 + 4 * i + u32(vector + 4 + 4 * i));
  };
  const root = u32(0);
  // OperatorCode: deprecated_builtin_code (int8, field 0), builtin_code (int32, field 3); the code is the larger.
  const codes = tables(root, 1).map((oc) => {
    const deprecated = field(oc, 0);
    const current = field(oc, 3);
    return Math.max(deprecated === null ? 0 : b.readInt8(deprecated), current === null ? 0 : b.readInt32LE(current));
  });
  const [main] = tables(root, 2); // SubGraph: operators are field 3; Operator: opcode_index is field 0
  return tables(main, 3).map((op) => {
    const f = field(op, 0);
    return codes[f === null ? 0 : u32(f)];
  });
}

describe('profile on TFLite (the kernel-timing delegate)', () => {
  for (const { name, shapes } of pairs) {
    it(`${name}: every operator of the file, once, by its schema name; node times add up to the runs`, async () => {
      const path = modelPath(name, 'tflite');
      const model = await openModel(path, { intraOpThreads: 1 });
      const traceFile = join(dir, `${name}.tflite.trace.json`);
      try {
        const r = await profile(model, { runs: 100, warmupRuns: 5, cpu: 1, traceFile, shapes: shapes ? { [model.inputs[0].name]: shapes[0] } : {} });
        assert.equal(r.runs, 100);
        assert.ok(r.nodes.every((n) => n.calls === 100 && n.provider === 'builtin'), JSON.stringify(r.nodes.map((n) => [n.name, n.calls, n.provider])));
        // Node i of the interpreter is operator i of the file's main subgraph.
        const events = JSON.parse(readFileSync(traceFile, 'utf8'));
        const indexOf = new Map(events.filter((e) => e.cat === 'Node').map((e) => [e.name.slice(0, -'_kernel_time'.length), Number(e.args.node_index)]));
        const byIndex = new Map(r.nodes.map((n) => [indexOf.get(n.name), n.opType]));
        const expected = tfliteOperatorCodes(path);
        assert.equal(r.nodes.length, expected.length);
        for (const [i, code] of expected.entries()) assert.equal(builtinCodes[byIndex.get(i)], code, `operator ${i}: ${byIndex.get(i)} is not code ${code}`);
        // In each profiled run, its nodes' times add up to the run within 15 % (the rest is TFLite's
        // own work between nodes, and the timer's); the median run is asserted. Per run, so that a
        // preemption counts in both (with the CPU shared, the typical node and the typical run are
        // not preempted alike: nodeSumRatio, from per-node medians, fell to 44 % on the 9-ms
        // embedding_model). Not under the sanitizers, whose timer is instrumented and TFLite not.
        const trace = readTrace(events, 5 + 1);
        assert.equal(trace.runsUs.length, 100);
        const perRun = trace.runsUs.map((runUs, run) => trace.nodes.filter((n) => n.run === run).reduce((a, n) => a + n.dur, 0) / runUs);
        assert.ok(perRun.every((x) => x <= 1), 'node times are inside their runs');
        const median = [...perRun].sort((a, b) => a - b)[50];
        if (!process.env.MODEL_AUDIT_SANITIZE) assert.ok(median >= 0.85, `node times are ${(median * 100).toFixed(1)} % of the median run`);
      } finally {
        model.close();
      }
    });
  }

  it('a profiled session gives the same outputs as the model unprofiled, and its trace names the op and shapes', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'tflite'));
    const session = await openProfiledSession(specOf(model), join(dir, 'tflite-outputs'));
    try {
      const data = Float32Array.from({ length: 16 * 96 }, (_, i) => Math.sin(i));
      const plain = model.runSync({ [model.inputs[0].name]: data });
      const profiled = session.runSync([{ dtype: 'float32', shape: [1, 16, 96], data }]);
      assert.deepEqual(new Float32Array(profiled[0].buffer), Object.values(plain)[0].data);
      const events = JSON.parse(readFileSync(session.endProfiling(), 'utf8'));
      assert.equal(events.filter((e) => e.name === 'model_run').length, 1);
      const fc = events.find((e) => e.cat === 'Node' && e.args.op_name === 'FULLY_CONNECTED');
      assert.deepEqual(fc.args.input_type_shape[0], { float: [1, 1536] });
    } finally {
      session.close();
      model.close();
    }
  });

  it('a model opened with XNNPack is refused with a typed error that says why, before any run', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'tflite'), { xnnpack: true });
    try {
      await assert.rejects(profile(model), (e) => e instanceof UnsupportedConfigurationError && /XNNPack/.test(e.message) && /xnnpack: false/.test(e.message));
    } finally {
      model.close();
    }
  });
});

describe('profile in the audit, the command and compare', () => {
  it('the profile step reports operator types, and compare ranks where a change came from', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'), { intraOpThreads: 1 });
    try {
      const a = await audit(model, { steps: { profile: { runs: 10 } } });
      assert.equal(a.steps.profile.status, 'completed');
      assert.ok(a.steps.profile.result.opTypes.length > 0);
      // A second report whose Gemm time doubled: compare names Gemm first.
      const b = structuredClone(a);
      for (const t of b.steps.profile.result.opTypes) if (t.opType === 'Gemm') t.perRunNs *= 2;
      const c = compareReports(a, b);
      assert.equal(c.operators[0].opType, 'Gemm');
      assert.ok(c.operators[0].changeNs > 0);
    } finally {
      model.close();
    }
  });

  it('a TFLite model\'s profile step completes, and its Markdown names the kernel timer', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'tflite'));
    try {
      const a = await audit(model, { steps: { profile: { runs: 10 } } });
      assert.equal(a.steps.profile.status, 'completed');
      assert.deepEqual(a.steps.profile.result.opTypes.map((t) => t.opType).sort(), ['FULLY_CONNECTED', 'LOGISTIC', 'RESHAPE']);
      assert.match(toMarkdown(a), /\*\*Profile\*\* \(model-audit's TFLite kernel timer, 10 runs\)/);
    } finally {
      model.close();
    }
  });

  it('a profile that cannot be had fails its step with the typed error, and the audit goes on', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'tflite'), { xnnpack: true });
    try {
      const a = await audit(model, { steps: { profile: { runs: 10 }, latency: { iterations: 50 } } });
      assert.equal(a.steps.profile.status, 'errored');
      assert.equal(a.steps.profile.error.code, 'ERR_UNSUPPORTED_CONFIGURATION');
      assert.match(a.steps.profile.error.message, /XNNPack/);
      assert.equal(a.steps.latency.status, 'completed');
    } finally {
      model.close();
    }
  });

  it('model-audit profile prints the tables and writes the trace', () => {
    const trace = join(dir, 'cli.trace.json');
    const r = spawnSync(process.execPath, [cli, 'profile', modelPath('hey_jarvis_v0.1', 'onnx'), '--runs', '10', '--threads', '1', '--trace', trace], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\| operator type \| nodes \| share of the run/);
    assert.match(r.stdout, /Gemm/);
    assert.ok(existsSync(trace));
    const tfl = spawnSync(process.execPath, [cli, 'profile', modelPath('hey_jarvis_v0.1', 'tflite'), '--runs', '10'], { encoding: 'utf8' });
    assert.equal(tfl.status, 0, tfl.stderr);
    assert.match(tfl.stdout, /\| FULLY_CONNECTED \| 3 \|/);
    assert.match(tfl.stdout, /note: TFLite: model-audit's kernel-timing delegate/);
  });
});
