/**
 * Telling the model format from the bytes.
 */
import { extname } from 'node:path';
import { CorruptModelError, ModelFormatError } from './errors.js';
import type { RuntimeKind } from './runtimes.js';

/** What the bytes look like. */
export type DetectedFormat = 'tflite' | 'onnx' | 'ort' | 'unknown';

function identifierAt4(bytes: Uint8Array): string {
  if (bytes.length < 8) return '';
  return String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!);
}

/**
 * TFLite flatbuffers carry the file identifier `TFL3` at offset 4, ONNX Runtime's own format
 * `ORTM`; an ONNX ModelProto is a protobuf whose first byte is the tag of one of its fields.
 */
export function detectFormat(bytes: Uint8Array): DetectedFormat {
  const identifier = identifierAt4(bytes);
  if (identifier === 'TFL3') return 'tflite';
  if (identifier === 'ORTM') return 'ort';
  // Protobuf tag: varint (field number << 3 | wire type). ModelProto's fields are numbered 1-26
  // and are varints (0) or length-delimited (2).
  let tag = 0;
  let shift = 0;
  for (let i = 0; i < Math.min(bytes.length, 5); i++) {
    const b = bytes[i]!;
    tag |= (b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) === 0) {
      const field = tag >>> 3;
      const wireType = tag & 7;
      return field >= 1 && field <= 32 && (wireType === 0 || wireType === 2) ? 'onnx' : 'unknown';
    }
  }
  return 'unknown';
}

const extensionRuntime: Record<string, RuntimeKind> = { '.onnx': 'onnx', '.ort': 'onnx', '.tflite': 'tflite' };

/**
 * The runtime for a model: the caller's choice, else the content's. A file whose extension
 * names one format while its content is the other is refused, since one of the two is a mistake.
 */
export function chooseRuntime(bytes: Uint8Array, path: string | undefined, requested: RuntimeKind | undefined): RuntimeKind {
  const where = path ?? 'the model bytes';
  if (bytes.length === 0) throw new CorruptModelError(`${where} is empty (0 bytes)`, { path });
  if (requested !== undefined) return requested;
  const detected = detectFormat(bytes);
  if (detected === 'unknown') {
    throw new ModelFormatError(
      `${where} is neither a TFLite flatbuffer (no "TFL3" identifier at offset 4) nor an ONNX model (not a protobuf ModelProto); ` +
        `pass runtime: 'onnx' or 'tflite' to force one`,
      { path },
    );
  }
  const fromContent: RuntimeKind = detected === 'tflite' ? 'tflite' : 'onnx';
  const fromExtension = path === undefined ? undefined : extensionRuntime[extname(path).toLowerCase()];
  if (fromExtension !== undefined && fromExtension !== fromContent) {
    throw new ModelFormatError(
      `${where} has the extension of a ${fromExtension === 'onnx' ? 'ONNX' : 'TFLite'} model but its content is ` +
        `${fromContent === 'onnx' ? 'ONNX' : 'a TFLite flatbuffer'}; rename it or pass runtime: '${fromContent}'`,
      { path },
    );
  }
  return fromContent;
}
