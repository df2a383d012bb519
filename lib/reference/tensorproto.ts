/**
 * ONNX TensorProto files (the `input_*.pb` / `output_*.pb` of ONNX test-data folders), read with
 * protobufjs from a schema of the fields that carry tensors.
 */
import protobuf from 'protobufjs';
import { allocate, type DType, type Tensor } from '../tensor/tensor.js';

const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int32Data: { rule: 'repeated', type: 'int32', id: 5 },
            stringData: { rule: 'repeated', type: 'bytes', id: 6 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            doubleData: { rule: 'repeated', type: 'double', id: 10 },
            uint64Data: { rule: 'repeated', type: 'uint64', id: 11 },
          },
        },
      },
    },
  },
});
const TensorProto = root.lookupType('onnx.TensorProto');

/** ONNX element types model-audit reads, by TensorProto.DataType number. */
const onnxDTypes: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' };
const onnxTypeNames: Record<number, string> = { 4: 'uint16', 8: 'string', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16' };

/** Thrown for a TensorProto model-audit cannot turn into a tensor (strings, bfloat16, …). */
export class UnsupportedTensorError extends Error {}

interface DecodedTensor {
  dims?: string[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: string[];
  doubleData?: number[];
  rawData?: Uint8Array;
  name?: string;
}

/** A named tensor read from a TensorProto. */
export interface NamedTensor extends Tensor {
  name: string;
}

export function decodeTensorProto(bytes: Uint8Array): NamedTensor {
  const message = TensorProto.decode(bytes);
  const t = TensorProto.toObject(message, { longs: String, bytes: Uint8Array as unknown as typeof String }) as DecodedTensor;
  const dataType = t.dataType ?? 0;
  const dtype = onnxDTypes[dataType];
  if (dtype === undefined) {
    throw new UnsupportedTensorError(`TensorProto data type ${onnxTypeNames[dataType] ?? dataType} is not supported`);
  }
  const shape = (t.dims ?? []).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = allocate(dtype, count);
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== count * data.BYTES_PER_ELEMENT) {
      throw new UnsupportedTensorError(`raw_data holds ${t.rawData.length} bytes, shape ${JSON.stringify(shape)} needs ${count * data.BYTES_PER_ELEMENT}`);
    }
    new Uint8Array(data.buffer).set(t.rawData);
  } else if (dtype === 'float32') {
    (data as Float32Array).set(t.floatData ?? []);
  } else if (dtype === 'float64') {
    (data as Float64Array).set(t.doubleData ?? []);
  } else if (dtype === 'int64') {
    (data as BigInt64Array).set((t.int64Data ?? []).map((v) => BigInt(v)));
  } else {
    // int8, uint8, int16, int32, bool and float16 (as its bits) travel in int32_data.
    const values = t.int32Data ?? [];
    for (let i = 0; i < values.length; i++) (data as Int32Array)[i] = values[i]!;
  }
  return { name: t.name ?? '', dtype, shape, data };
}
