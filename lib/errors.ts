/**
 * Every failure a caller can cause is one of these classes, each with a stable string `code`.
 * Native code throws the same classes (they are handed to the addon at load).
 */

/** Extra facts an error carries; which ones are set depends on the class. */
export interface ErrorDetails {
  /** The model file, when the model came from a file. */
  path?: string;
  /** The runtime's own words, when it gave any. */
  runtimeMessage?: string;
  cause?: unknown;
  /** What a measurement had gathered before it failed. */
  partial?: unknown;
}

export class ModelAuditError extends Error {
  readonly code: string;
  readonly path: string | undefined;
  readonly runtimeMessage: string | undefined;
  /** For a measurement that failed part-way: the result with everything measured before the failure. */
  partial: unknown;

  constructor(message: string, details: ErrorDetails = {}, code = 'ERR_MODEL_AUDIT') {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.path = details.path;
    this.runtimeMessage = details.runtimeMessage;
    this.partial = details.partial;
  }
}

/** The bytes are neither a TFLite flatbuffer nor an ONNX model, or the file's extension contradicts its content. */
export class ModelFormatError extends ModelAuditError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'ERR_MODEL_FORMAT');
  }
}

/** The model file could not be read: missing, a directory, no permission. */
export class ModelReadError extends ModelAuditError {
  /** The system error code (ENOENT, EISDIR, EACCES, …). */
  readonly systemCode: string | undefined;
  constructor(message: string, details: ErrorDetails & { systemCode?: string } = {}) {
    super(message, details, 'ERR_MODEL_READ');
    this.systemCode = details.systemCode;
  }
}

/** The runtime could not parse or build the model (truncated, corrupt, inconsistent). */
export class CorruptModelError extends ModelAuditError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'ERR_MODEL_CORRUPT');
  }
}

/** What a feed got wrong, for one input. */
export interface FeedMismatch {
  /** The model input concerned ("" when the problem is the set of feeds). */
  input: string;
  /** What was wrong: 'missing', 'unknown', 'dtype', 'rank', 'shape', 'elements', 'data'. */
  field: 'missing' | 'unknown' | 'dtype' | 'rank' | 'shape' | 'elements' | 'data';
  expected: string;
  actual: string;
}

/** Feeds that do not match the model's inputs. */
export class FeedError extends ModelAuditError {
  readonly input: string | undefined;
  readonly field: FeedMismatch['field'] | undefined;
  readonly expected: string | undefined;
  readonly actual: string | undefined;
  constructor(message: string, details: ErrorDetails & Partial<FeedMismatch> = {}) {
    super(message, details, 'ERR_FEED');
    this.input = details.input;
    this.field = details.field;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

/** The runtime failed while running; `runtimeMessage` carries its own message. */
export class RuntimeFailureError extends ModelAuditError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'ERR_RUNTIME');
  }
}

/**
 * A measurement's failure as the caller gets it: `err` (a RuntimeFailureError when it is not one of
 * these classes) with `what failed` before its message, carrying everything measured before it.
 */
export function measurementFailure(err: Error, whatFailed: string, partial: unknown): ModelAuditError {
  const typed = err instanceof ModelAuditError ? err : new RuntimeFailureError(String(err.message));
  typed.message = `${whatFailed}: ${typed.message}`;
  typed.partial = partial;
  return typed;
}

/** The runtime library is missing, cannot be loaded, or lacks the C API this package needs. */
export class RuntimeLibraryError extends ModelAuditError {
  readonly libraryPath: string | undefined;
  constructor(message: string, details: ErrorDetails & { libraryPath?: string } = {}) {
    super(message, details, 'ERR_RUNTIME_LIBRARY');
    this.libraryPath = details.libraryPath;
  }
}

/** An input with dynamic dimensions, as an error about unresolved shapes lists it. */
export interface DynamicInput {
  name: string;
  shape: (number | null)[];
  dimNames: (string | null)[];
}

/** An option of the wrong type (`ERR_OPTION_TYPE`) or out of range (`ERR_OPTION_RANGE`). */
export class OptionsError extends ModelAuditError {
  /** The full path of the offending option, e.g. `options.intraOpThreads`. */
  readonly option: string | undefined;
  /** When the problem is shapes nobody gave: every input with dynamic dimensions. */
  dynamicInputs: DynamicInput[] | undefined;
  constructor(message: string, details: ErrorDetails & { option?: string; kind?: 'type' | 'range' } = {}) {
    super(message, details, details.kind === 'type' ? 'ERR_OPTION_TYPE' : 'ERR_OPTION_RANGE');
    this.option = details.option;
    this.dynamicInputs = undefined;
  }
}

/** A configuration this runtime build cannot run, e.g. the XNNPack delegate refusing a graph. */
export class UnsupportedConfigurationError extends ModelAuditError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'ERR_UNSUPPORTED_CONFIGURATION');
  }
}

/** The model was closed. */
export class ClosedModelError extends ModelAuditError {
  constructor(message = 'the model was closed; open it again to use it', details: ErrorDetails = {}) {
    super(message, details, 'ERR_MODEL_CLOSED');
  }
}

/**
 * The results store could not be opened, migrated, written or read (`ERR_STORE`), or it holds a
 * schema newer than this model-audit knows (`ERR_STORE_SCHEMA`). The message names the store with
 * its password hidden.
 */
export class StoreError extends ModelAuditError {
  constructor(message: string, details: ErrorDetails & { schema?: boolean } = {}) {
    super(message, details, details.schema ? 'ERR_STORE_SCHEMA' : 'ERR_STORE');
  }
}

/** The classes native code throws, by the names the addon looks up. */
export const nativeErrorClasses = {
  CorruptModelError,
  FeedError,
  RuntimeFailureError,
  RuntimeLibraryError,
  OptionsError,
  UnsupportedConfigurationError,
  ClosedModelError,
} as const;
