/**
 * Loads the addon and types its whole surface. The only module that touches it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeLibraryError, nativeErrorClasses } from './errors.js';

export type NativeRuntimeKind = 'onnx' | 'tflite';
export type NativeDType = 'float32' | 'float16' | 'float64' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'bool';

export interface NativeTensorInfo {
  name: string;
  dtype: NativeDType | 'unsupported';
  runtimeType: string;
  /** -1 marks a dynamic dimension. */
  shape: number[];
  dimNames: string[];
}

export interface NativeFeed {
  dtype: NativeDType;
  shape: number[];
  data: ArrayBufferView;
}

export interface NativeOutput {
  name: string;
  dtype: NativeDType;
  shape: number[];
  buffer: ArrayBuffer;
}

export interface NativeSessionOptions {
  intraOpThreads?: number;
  interOpThreads?: number;
  graphOptimizationLevel?: number;
  xnnpack?: boolean;
  cpuMemArena?: boolean;
  memPattern?: boolean;
  allowSpinning?: boolean;
  intraOpAffinity?: string;
}

export interface NativeSession {
  inputs(): NativeTensorInfo[];
  outputs(): NativeTensorInfo[];
  run(feeds: NativeFeed[]): Promise<NativeOutput[]>;
  runSync(feeds: NativeFeed[]): NativeOutput[];
  close(): void;
  isClosed(): boolean;
  /** Nanoseconds the runtime took to create the session or interpreter. */
  createNs(): number;
  summary(): string;
}

export interface NativeRuntimeInfo {
  name: string;
  version: string;
  apiVersion: string;
  libraryPath: string;
}

export interface NativeClockInfo {
  resolutionNs: number;
  readCostNs: number;
  smallestStepNs: number;
}

export interface NativeAddon {
  setErrorClasses(classes: typeof nativeErrorClasses): void;
  openSession(kind: NativeRuntimeKind, libraryPath: string, bytes: Uint8Array, options: NativeSessionOptions): Promise<NativeSession>;
  openSessionSync(kind: NativeRuntimeKind, libraryPath: string, bytes: Uint8Array, options: NativeSessionOptions): NativeSession;
  runtimeInfo(kind: NativeRuntimeKind, libraryPath: string): NativeRuntimeInfo;
  clockInfo(): NativeClockInfo;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the addon was loaded from, for diagnostics. */
export let addonPath = '';

function loadAddon(): NativeAddon {
  const require = createRequire(import.meta.url);
  const explicit = process.env.MODEL_AUDIT_ADDON;
  const tried: string[] = [];
  let addon: NativeAddon | undefined;
  if (explicit) {
    tried.push(explicit);
    addon = require(explicit) as NativeAddon;
    addonPath = explicit;
  } else {
    // A prebuild for this platform first, else the local build (node-gyp-build's order).
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    try {
      addonPath = nodeGypBuild.path(packageRoot);
      addon = require(addonPath) as NativeAddon;
    } catch (err) {
      tried.push(join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`), join(packageRoot, 'build', 'Release'));
      const local = join(packageRoot, 'build', 'Release', 'model_audit.node');
      if (!existsSync(local)) {
        throw new RuntimeLibraryError(
          `model-audit: no native addon for ${process.platform}-${process.arch} (looked in ${tried.join(', ')}); ` +
            `run "npm run build:native" in ${packageRoot}`,
          { cause: err },
        );
      }
      addonPath = local;
      addon = require(local) as NativeAddon;
    }
  }
  addon.setErrorClasses(nativeErrorClasses);
  return addon;
}

let cached: NativeAddon | undefined;

/** The addon, loaded on first use. */
export function native(): NativeAddon {
  cached ??= loadAddon();
  return cached;
}
