/**
 * NumPy .npy files (format 1.0 to 3.0), little-endian, C order.
 */
import { allocate, type DType, type Tensor } from '../tensor/tensor.js';

const descrs: Record<string, DType> = {
  '<f4': 'float32',
  '<f2': 'float16',
  '<f8': 'float64',
  '|i1': 'int8',
  '|u1': 'uint8',
  '<i2': 'int16',
  '<i4': 'int32',
  '<i8': 'int64',
  '|b1': 'bool',
};

export function decodeNpy(bytes: Uint8Array, where = 'the .npy data'): Tensor {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error(`${where} is not a .npy file (no \\x93NUMPY magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${where}: unreadable .npy header ${header.trim()}`);
  const dtype = descrs[descr];
  if (dtype === undefined) throw new Error(`${where}: dtype ${descr} is not supported (${Object.keys(descrs).join(', ')})`);
  if (fortran === 'True') throw new Error(`${where}: Fortran-order arrays are not supported`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = allocate(dtype, count);
  const start = headerStart + headerLength;
  const byteLength = count * data.BYTES_PER_ELEMENT;
  if (bytes.length - start < byteLength) throw new Error(`${where}: ${bytes.length - start} data bytes, shape ${JSON.stringify(shape)} needs ${byteLength}`);
  new Uint8Array(data.buffer).set(bytes.subarray(start, start + byteLength));
  return { dtype, shape, data };
}

/** Writes a tensor as .npy (format 1.0), for exporting inputs and outputs. */
export function encodeNpy(tensor: Tensor): Uint8Array {
  const descr = Object.entries(descrs).find(([, d]) => d === tensor.dtype)![0];
  const shape = tensor.shape.length === 1 ? `(${tensor.shape[0]},)` : `(${tensor.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const headerBytes = new TextEncoder().encode(header);
  const data = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const out = new Uint8Array(10 + headerBytes.length + data.length);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  out.set(headerBytes, 10);
  out.set(data, 10 + headerBytes.length);
  return out;
}
