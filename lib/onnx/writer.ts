/**
 * Writes small ONNX models (a protobuf ModelProto) from a plain description: enough for demo
 * models and for tests that need a model of a known shape or size without a file.
 */
import type { DType, TypedArrayOf } from '../tensor/tensor.js';

const elementTypes: Record<DType, number> = { float32: 1, uint8: 2, int8: 3, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };

class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) b |= 0x80;
      bytes.push(b);
    } while (v !== 0n);
    this.parts.push(Uint8Array.from(bytes));
    return this;
  }

  private tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  int(field: number, value: number | bigint): this {
    return this.tag(field, 0).varint(value);
  }

  float(field: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.tag(field, 5);
    this.parts.push(b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    this.parts.push(data);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  message(field: number, writer: ProtoWriter): this {
    return this.bytes(field, writer.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of this.parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }
}

/** A graph input or output: a dimension is a size, or a name for a dynamic one. */
export interface ValueSpec {
  name: string;
  dtype: DType;
  shape: (number | string)[];
}

/** A constant tensor stored in the model. */
export interface Initializer<D extends DType = DType> {
  name: string;
  dtype: D;
  shape: number[];
  data: TypedArrayOf[D];
}

export type AttributeValue = number | string | number[] | { tensor: Initializer };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttributeValue>;
}

export interface GraphSpec {
  name?: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: Initializer[];
  /** ai.onnx opset version. @default 13 */
  opset?: number;
}

function valueInfo(v: ValueSpec): ProtoWriter {
  const dims = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'string') dim.string(2, d);
    else dim.int(1, d);
    dims.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, elementTypes[v.dtype]).message(2, dims);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function tensorProto(t: Initializer): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.shape) w.int(1, d);
  w.int(2, elementTypes[t.dtype]);
  w.string(8, t.name);
  return w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function attribute(name: string, value: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof value === 'number' && Number.isInteger(value)) return w.int(3, value).int(20, 2);
  if (typeof value === 'number') return w.float(2, value).int(20, 1);
  if (typeof value === 'string') return w.string(4, value).int(20, 3);
  if (Array.isArray(value)) {
    for (const v of value) w.int(8, v);
    return w.int(20, 7);
  }
  return w.message(5, tensorProto(value.tensor)).int(20, 4);
}

/** Encodes a graph as an ONNX model (IR version 8). */
export function buildOnnxModel(spec: GraphSpec): Uint8Array {
  const graph = new ProtoWriter();
  spec.nodes.forEach((node, i) => {
    const n = new ProtoWriter();
    for (const input of node.inputs) n.string(1, input);
    for (const output of node.outputs) n.string(2, output);
    n.string(3, node.name ?? `node${i}`);
    n.string(4, node.op);
    for (const [key, value] of Object.entries(node.attrs ?? {})) n.message(5, attribute(key, value));
    graph.message(1, n);
  });
  graph.string(2, spec.name ?? 'graph');
  for (const init of spec.initializers ?? []) graph.message(5, tensorProto(init));
  for (const input of spec.inputs) graph.message(11, valueInfo(input));
  for (const output of spec.outputs) graph.message(12, valueInfo(output));
  const opset = new ProtoWriter().string(1, '').int(2, spec.opset ?? 13);
  return new ProtoWriter().int(1, 8).string(2, 'model-audit').message(7, graph).message(8, opset).finish();
}
