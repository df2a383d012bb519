/**
 * model-audit/testing: what tests of model-audit, and of harnesses built on it, need: small ONNX
 * models written on the spot, faults injected into runs, isolation and misbehaving child tasks.
 */
export { buildOnnxModel } from '../onnx/writer.js';
export type { GraphSpec, NodeSpec, ValueSpec, Initializer, AttributeValue } from '../onnx/writer.js';
export { demoModel } from '../onnx/demo.js';
export { injectFaults } from './faults.js';
export type { InjectedFaults } from './faults.js';
export { runIsolated, taskRef } from '../isolate/run.js';
export type { ItemOutcome, IsolatedRun, IsolationOptions } from '../isolate/run.js';
export type { Constraints, AppliedConstraints, ModelSpec, SerializedError, Task, TaskContext, TaskRef } from '../isolate/protocol.js';
export { testTasks } from './tasks.js';
