/**
 * Reading a model: from a file path, a file URL or bytes, with the time reading took.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelReadError } from '../errors.js';

/** A model's source as given to openModel. */
export type ModelSource = string | URL | Uint8Array;

export interface LoadedSource {
  bytes: Uint8Array;
  path: string | undefined;
  readNs: number;
}

function sourcePath(source: string | URL): string {
  return resolve(source instanceof URL ? fileURLToPath(source) : source);
}

function readError(path: string, err: unknown): ModelReadError {
  const e = err as NodeJS.ErrnoException;
  const systemCode = e.code;
  const reason =
    systemCode === 'ENOENT' ? 'does not exist' : systemCode === 'EISDIR' ? 'is a directory, not a model file' : systemCode === 'EACCES' ? 'is not readable (permission denied)' : `cannot be read (${e.message})`;
  return new ModelReadError(`model file ${path} ${reason}`, { path, systemCode, cause: err });
}

function checkSource(source: unknown): void {
  if (typeof source === 'string' || source instanceof URL || source instanceof Uint8Array) return;
  throw new ModelReadError(`Expected a file path, file URL or Uint8Array for the model but received ${source === null ? 'null' : typeof source}`);
}

export async function loadSource(source: ModelSource): Promise<LoadedSource> {
  checkSource(source);
  if (source instanceof Uint8Array) return { bytes: source, path: undefined, readNs: 0 };
  const path = sourcePath(source);
  const start = process.hrtime.bigint();
  try {
    const bytes = await readFile(path);
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, readNs: Number(process.hrtime.bigint() - start) };
  } catch (err) {
    throw readError(path, err);
  }
}

export function loadSourceSync(source: ModelSource): LoadedSource {
  checkSource(source);
  if (source instanceof Uint8Array) return { bytes: source, path: undefined, readNs: 0 };
  const path = sourcePath(source);
  const start = process.hrtime.bigint();
  try {
    if (statSync(path).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const bytes = readFileSync(path);
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, readNs: Number(process.hrtime.bigint() - start) };
  } catch (err) {
    throw readError(path, err);
  }
}
