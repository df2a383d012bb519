/**
 * The isolated child: applies its constraints, opens the model, works through the items and
 * reports each. Started by run.ts with an IPC channel; never imported by the SDK itself.
 */
import { openModelSync, type Model } from '../model.js';
import { native } from '../native.js';
import { describeRuntime } from '../runtimes.js';
import { serializeError, type AppliedConstraints, type ChildEvent, type ChildRequest } from './protocol.js';
import { childTasks } from './tasks.js';

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
    const error = native().pinProcess([cpu]);
    applied.cpu = cpu;
    applied.pinError = error || null;
  }
  if (memoryLimitBytes !== undefined) {
    const limit = native().limitAddressSpace(memoryLimitBytes);
    applied.memoryLimitBytes = memoryLimitBytes;
    applied.addressSpaceLimitBytes = limit.limitBytes;
    applied.limitError = limit.error || null;
  }
  return applied;
}

async function handle(request: ChildRequest): Promise<void> {
  await send({ type: 'ready', constraints: applyConstraints(request) });
  const task = childTasks[request.task];
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
