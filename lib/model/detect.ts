/**
 * Telling the model format from the bytes.
 */
import { extname } from 'node:path';
import { CorruptModelError, ModelFormatError } from '../errors.js';
import type { RuntimeKind } from '../system/runtimes.js';

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
  return looksLikeModelProto(bytes) ? 'onnx' : 'unknown';
}

// ModelProto's top-level fields and their wire types (0 varint, 2 length-delimited).
const modelProtoFields = new Map<number, number>([
  [1, 0], [2, 2], [3, 2], [4, 2], [5, 0], [6, 2], [7, 2], [8, 2], [14, 2], [20, 2], [25, 2], [26, 2],
]);

function readVarint(bytes: Uint8Array, offset: number): [value: number, next: number] | undefined {
  let value = 0;
  for (let i = 0; i < 10 && offset + i < bytes.length; i++) {
    const b = bytes[offset + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return [value, offset + i + 1];
  }
  return undefined;
}

/**
 * Walks the first top-level fields as protobuf: each must be a ModelProto field with its wire
 * type. Running off the end is allowed (a truncated model is still ONNX, and its runtime then
 * says what is wrong with it).
 */
function looksLikeModelProto(bytes: Uint8Array): boolean {
  let offset = 0;
  for (let field = 0; field < 4 && offset < bytes.length; field++) {
    const tag = readVarint(bytes, offset);
    if (!tag) return field > 0;
    const [key, afterTag] = tag;
    const wireType = key % 8;
    if (modelProtoFields.get(Math.floor(key / 8)) !== wireType) return false;
    const value = readVarint(bytes, afterTag);
    if (!value) return true;
    offset = wireType === 0 ? value[1] : value[1] + value[0];
  }
  return true;
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
