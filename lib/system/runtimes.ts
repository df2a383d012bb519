/**
 * Finding the runtime libraries and describing what was loaded.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { RuntimeLibraryError } from '../errors.js';
import { native } from '../native.js';

/** The runtimes model-audit drives through their C APIs. */
export type RuntimeKind = 'onnx' | 'tflite';

/** Environment variables that point at a runtime library instead of the packaged one. */
export const runtimeLibraryEnv: Readonly<Record<RuntimeKind, string>> = {
  onnx: 'MODEL_AUDIT_ORT_LIBRARY',
  tflite: 'MODEL_AUDIT_TFLITE_LIBRARY',
};

const require = createRequire(import.meta.url);

function packageDir(name: string): string | undefined {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

function findFile(dir: string, pattern: RegExp): string | undefined {
  if (!existsSync(dir)) return undefined;
  const match = readdirSync(dir).filter((f) => pattern.test(f)).sort()[0];
  return match === undefined ? undefined : join(dir, match);
}

/** The library the npm packages ship for this platform, or undefined when there is none. */
export function packagedLibraryPath(kind: RuntimeKind): string | undefined {
  if (kind === 'onnx') {
    const dir = packageDir('onnxruntime-node');
    if (!dir) return undefined;
    const binDir = join(dir, 'bin', 'napi-v6', process.platform, process.arch);
    return findFile(binDir, process.platform === 'win32' ? /^onnxruntime\.dll$/ : /^libonnxruntime\.(so\.1|\d.*dylib)$/);
  }
  const dir = packageDir('tfjs-tflite-node');
  if (!dir) return undefined;
  const platformDirs: Record<string, string> = { 'linux-x64': 'linux_amd64', 'linux-arm64': 'linux_arm64', 'darwin-arm64': 'darwin_arm64', 'win32-x64': 'windows_amd64' };
  const platformDir = platformDirs[`${process.platform}-${process.arch}`];
  if (!platformDir) return undefined;
  return findFile(join(dir, 'cc_deps', platformDir), /^(lib)?tensorflowlite_c\.(so|dylib|dll)$/);
}

/**
 * The library to load for a runtime: the explicit path, else the environment variable, else the
 * packaged one. Throws RuntimeLibraryError naming what it looked for.
 */
export function resolveLibraryPath(kind: RuntimeKind, explicit?: string): string {
  const fromEnv = process.env[runtimeLibraryEnv[kind]];
  const chosen = explicit ?? (fromEnv || undefined);
  if (chosen !== undefined) {
    const path = resolve(chosen);
    if (!existsSync(path)) {
      const source = explicit !== undefined ? 'options.libraryPath' : runtimeLibraryEnv[kind];
      throw new RuntimeLibraryError(`${kind} runtime library ${path} (from ${source}) does not exist`, { libraryPath: path });
    }
    if (statSync(path).isDirectory()) {
      throw new RuntimeLibraryError(`${kind} runtime library ${path} is a directory, not a shared library`, { libraryPath: path });
    }
    return path;
  }
  const packaged = packagedLibraryPath(kind);
  if (packaged === undefined) {
    const pkg = kind === 'onnx' ? 'onnxruntime-node' : 'tfjs-tflite-node';
    throw new RuntimeLibraryError(
      `no ${kind} runtime library for ${process.platform}-${process.arch}: the package ${pkg} is missing or ships none for ` +
        `this platform; set ${runtimeLibraryEnv[kind]} or options.libraryPath to a library of your own`,
    );
  }
  return packaged;
}

/** What one runtime library is. */
export interface RuntimeLibraryInfo {
  runtime: RuntimeKind;
  /** Absolute path of the library file that was loaded. */
  libraryPath: string;
  /** The runtime's own version string (OrtGetApiBase()->GetVersionString(), TfLiteVersion()). */
  version: string;
  /** The C API version model-audit uses with it. */
  apiVersion: string;
  /** sha256 of the library file, hex. */
  sha256: string;
  sizeBytes: number;
  /**
   * ONNX Runtime: whether its telemetry was off when the library was loaded. model-audit sets
   * ORT_DISABLE_TELEMETRY=1 before loading it unless that variable is already set: the telemetry
   * allocates on threads of its own in bursts that would read as memory growth. null for TFLite.
   */
  telemetryDisabled: boolean | null;
}

/** Whether ONNX Runtime's telemetry is off for this process (read when the library loads). */
export function ortTelemetryDisabled(): boolean {
  const v = process.env.ORT_DISABLE_TELEMETRY;
  return v !== undefined && v !== '0';
}

const hashCache = new Map<string, { mtimeMs: number; sha256: string; sizeBytes: number }>();

function hashFile(path: string): { sha256: string; sizeBytes: number } {
  const stat = statSync(path);
  const hit = hashCache.get(path);
  if (hit && hit.mtimeMs === stat.mtimeMs) return hit;
  const entry = { mtimeMs: stat.mtimeMs, sha256: createHash('sha256').update(readFileSync(path)).digest('hex'), sizeBytes: stat.size };
  hashCache.set(path, entry);
  return entry;
}

/** Loads (once) and describes the runtime library for `kind`. */
export function describeRuntime(kind: RuntimeKind, libraryPath?: string): RuntimeLibraryInfo {
  const path = resolveLibraryPath(kind, libraryPath);
  const info = native().runtimeInfo(kind, path);
  const { sha256, sizeBytes } = hashFile(path);
  return { runtime: kind, libraryPath: path, version: info.version, apiVersion: info.apiVersion, sha256, sizeBytes, telemetryDisabled: kind === 'onnx' ? ortTelemetryDisabled() : null };
}

/** Options of {@link runtimeInfo}. */
export interface RuntimeInfoOptions {
  /** Which runtimes to describe. @default ['onnx', 'tflite'] */
  runtimes?: RuntimeKind[];
  /** Library paths to use instead of the packaged ones. */
  libraryPaths?: Partial<Record<RuntimeKind, string>>;
}

/**
 * Which runtime library files are loaded, their versions, sha256 and the C API version in use.
 * Loads each library if it is not loaded yet.
 */
export function runtimeInfo(options: RuntimeInfoOptions = {}): RuntimeLibraryInfo[] {
  const kinds = options.runtimes ?? ['onnx', 'tflite'];
  return kinds.map((kind) => describeRuntime(kind, options.libraryPaths?.[kind]));
}
