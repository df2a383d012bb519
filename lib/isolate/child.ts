/**
 * The isolated child: applies its constraints, opens the model, loads the task module it was told
 * to, works through the items and reports each. Started by run.ts with an IPC channel; never
 * imported by the SDK itself.
 */
import { openModelSync, type Model } from '../model/model.js';
import { describeRuntime } from '../system/runtimes.js';
import { limitAddressSpace, pinProcess } from '../system/process.js';
import { serializeError, type AppliedConstraints, type ChildEvent, type ChildRequest, type Task } from './protocol.js';

function send(event: ChildEvent): Promise<void> {
  return new Promise((resolve) => process.send!(event, undefined, {}, () => resolve()));
}

function applyConstraints(request: ChildRequest): AppliedConstraints {
  const applied: AppliedConstraints = { cpu: null, pinError: null, memoryLimitBytes: null, addressSpaceLimitBytes: null, limitError: null };
  const { cpu, memoryLimitBytes } = request.constraints;
  // The runtime library's code is mapped before the limit, so that the limit measures what the
  // model needs, not the size of the library file.
  const runtime = request.model?.options.runtime;
  if (memoryLimitBytes !== undefined && runtime !== undefined) describeRuntime(runtime, request.model?.options.libraryPath);
  if (cpu !== undefined) {
    applied.cpu = cpu;
    applied.pinError = pinProcess([cpu]);
  }
  if (memoryLimitBytes !== undefined) {
    const limit = limitAddressSpace(memoryLimitBytes);
    applied.memoryLimitBytes = memoryLimitBytes;
    applied.addressSpaceLimitBytes = limit.limitBytes;
    applied.limitError = limit.error;
  }
  return applied;
}

async function loadTask(request: ChildRequest): Promise<Task> {
  const module = (await import(request.task.module)) as Record<string, unknown>;
  const task = module[request.task.export];
  if (typeof task !== 'function') throw new Error(`${request.task.module} has no task export "${request.task.export}"`);
  return task as Task;
}

async function handle(request: ChildRequest): Promise<void> {
  await send({ type: 'ready', constraints: applyConstraints(request) });
  const task = await loadTask(request);
  let model: Model | null = null;
  if (request.model) {
    await send({ type: 'phase', phase: 'opening the model' });
    const spec = request.model;
    model = openModelSync('path' in spec ? spec.path : spec.bytes, spec.options);
  }
  const context = {
    model,
    common: request.common,
    phase: (phase: string) => send({ type: 'phase', phase }),
    progress: (payload: unknown) => send({ type: 'progress', payload }),
  };
  for (let index = 0; index < request.items.length; index++) {
    const item = request.items[index] as { name?: unknown } | null;
    const label = item !== null && typeof item === 'object' && typeof item.name === 'string' ? item.name : typeof item === 'string' ? item : `item ${index}`;
    await send({ type: 'item-start', index, phase: `running ${label}` });
    const result = await task(request.items[index], context);
    await send({ type: 'item-done', index, result });
  }
  model?.close();
  await send({ type: 'done', result: null });
}

process.once('message', (request: ChildRequest) => {
  handle(request)
    .catch((err) => send({ type: 'error', error: serializeError(err) }))
    .finally(() => process.disconnect?.());
});
