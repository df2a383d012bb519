/**
 * The constrained step's child task: a latency measurement under the child's constraints.
 */
import type { Task } from '../isolate/protocol.js';
import { benchmark, type BenchmarkOptions } from '../measure/benchmark.js';

export const benchmarkTask: Task = (item, { model }) => benchmark(model!, item as BenchmarkOptions);
