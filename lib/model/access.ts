/**
 * The one door from a Model to its native session, for the measurements built on top of Model.
 * Model keeps its session private; this registry is how measurements reach it without Model
 * knowing any of them. Not part of the public API.
 */
import { ClosedModelError, OptionsError } from '../errors.js';
import type { NativeSession } from '../native.js';
import type { ModelSpec, OpenOptions } from './options.js';

interface ModelHandle {
  session: NativeSession;
  /** The file the model came from, or undefined for bytes. */
  path: string | undefined;
  /** The bytes, kept (by reference) only when there is no file to open again. */
  bytes: Uint8Array | undefined;
  /** The options another process opens it with: resolved, with the library's path. */
  options: OpenOptions;
}

const handles = new WeakMap<object, ModelHandle>();

export function attachHandle(model: object, handle: ModelHandle): void {
  handles.set(model, handle);
}

function handleOf(model: object): ModelHandle {
  const handle = typeof model === 'object' && model !== null ? handles.get(model) : undefined;
  if (!handle) {
    throw new OptionsError(`Expected a model opened with openModel() but received ${model === null ? 'null' : typeof model}`, { option: 'model', kind: 'type' });
  }
  return handle;
}

/** The model's native session; ClosedModelError once the model was closed. */
export function sessionOf(model: object): NativeSession {
  const handle = handleOf(model);
  if (handle.session.isClosed()) {
    throw new ClosedModelError(`the model${handle.path ? ` ${handle.path}` : ''} was closed; open it again to use it`, { path: handle.path });
  }
  return handle.session;
}

/** How a child process opens the same model with the same options. */
export function specOf(model: object): ModelSpec {
  const handle = handleOf(model);
  const options: OpenOptions = { ...handle.options };
  if (options.intraOpCpus?.length === 0) delete options.intraOpCpus;
  return handle.path !== undefined ? { path: handle.path, options } : { bytes: handle.bytes!, options };
}
