// .npy files as NumPy itself writes and reads them, not only round-tripped through our own encoder:
// a python3 with numpy (Debian's python3-numpy; .ci/run installs it) writes every dtype, shape and
// header version the decoder claims, and reads back what the encoder writes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeNpy, encodeNpy } from '../dist/reference/index.js';

/** A python3 that can import numpy, or null. */
function pythonWithNumpy() {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' });
    if (r.status === 0) return python;
  }
  return null;
}

const python = pythonWithNumpy();
let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-npy-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function py(script) {
  const r = spawnSync(python, ['-c', script, dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// Shared by both scripts: the folder, and each value as JSON can carry it (float16 as its bits,
// integers exact, non-finite floats as Python's repr).
const prelude = `
import json, math, sys, numpy as np
d = sys.argv[1]
def num(x, a):
    if a.dtype.kind in 'iub' or a.dtype == np.float16:
        return int(x)
    x = float(x)
    return x if math.isfinite(x) else repr(x)
`;

// Writes one file per case with numpy, and prints each case's dtype, shape and values (float16 as
// its bits, so that no conversion stands between the two sides).
const writeScript = `${prelude}base = np.array([[-3, -2, -1], [0, 1, 2]])
cases = {}
def keep(name, a, version=None):
    path = f"{d}/{name}.npy"
    if version is None:
        np.save(path, a)
    else:
        with open(path, 'wb') as f:
            np.lib.format.write_array(f, a, version=version)
    v = a.view(np.uint16) if a.dtype == np.float16 else a
    cases[name] = {'dtype': a.dtype.str, 'shape': list(a.shape), 'values': [num(x, a) for x in np.ravel(v, order='C')]}
for name in ['float32', 'float64', 'float16', 'int8', 'int16', 'int32', 'int64']:
    keep(name, (base * 7 + 0.25 if name.startswith('float') else base * 7).astype(name))
keep('uint8', (base + 3).astype(np.uint8) * 40)
keep('bool', base > 0)
keep('int64_extremes', np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0], dtype=np.int64))
keep('float32_special', np.array([np.inf, -np.inf, 1e-45, -0.0, 3.4028235e38], dtype=np.float32))
keep('scalar', np.array(2.5, dtype=np.float32))
keep('vector', np.arange(5, dtype=np.int32))
keep('empty', np.zeros((0, 4), dtype=np.float32))
keep('rank4', np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4))
keep('version2', np.arange(6, dtype=np.float32).reshape(2, 3), version=(2, 0))
keep('version3', np.arange(6, dtype=np.float32).reshape(2, 3), version=(3, 0))
np.save(f"{d}/fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(f"{d}/bigendian.npy", np.arange(3, dtype='>f4'))
np.save(f"{d}/complex.npy", np.arange(3, dtype=np.complex64))
print(json.dumps(cases))
`;

const readScript = `${prelude}out = {}
for name in json.loads(open(f"{d}/written.json").read()):
    a = np.load(f"{d}/{name}.ours.npy")
    v = a.view(np.uint16) if a.dtype == np.float16 else a
    out[name] = {'dtype': a.dtype.str, 'shape': list(a.shape), 'fortran': bool(np.isfortran(a)) and a.ndim > 1, 'values': [num(x, a) for x in np.ravel(v, order='C')]}
print(json.dumps(out))
`;

const descrOf = { float32: '<f4', float64: '<f8', float16: '<f2', int8: '|i1', uint8: '|u1', int16: '<i2', int32: '<i4', int64: '<i8', bool: '|b1' };

function plain(data) {
  return Array.from(data, (v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Python's repr of a non-finite float, back to the number. */
const fromPython = (v) => ({ inf: Infinity, '-inf': -Infinity, nan: NaN })[v] ?? v;

describe('.npy against NumPy', { skip: !python && !process.env.CI && 'no python3 with numpy (apt-get install python3-numpy)' }, () => {
  it('reads what numpy writes: every dtype, 0-d to rank 4, empty arrays, header versions 1 to 3', () => {
    const cases = py(writeScript);
    assert.ok(Object.keys(cases).length >= 16);
    for (const [name, c] of Object.entries(cases)) {
      const t = decodeNpy(readFileSync(join(dir, `${name}.npy`)), name);
      assert.equal(descrOf[t.dtype], c.dtype, name);
      assert.deepEqual(t.shape, c.shape, name);
      // int64 as decimal strings: numbers cannot hold 2^63 - 1.
      const expected = t.dtype === 'int64' ? c.values.map((v) => BigInt(v).toString()) : c.values.map(fromPython);
      const actual = t.dtype === 'int64' ? plain(t.data).map(String) : plain(t.data);
      if (name === 'int64_extremes') {
        // JSON through Python's int keeps them exact; through JS numbers they would not be.
        assert.deepEqual(actual, ['-9223372036854775808', '9223372036854775807', '0']);
      } else if (t.dtype === 'bool') {
        assert.deepEqual(actual, expected.map(Number), name);
      } else {
        assert.deepEqual(actual, expected, name);
      }
    }
  });

  it('refuses what it does not decode, naming it: Fortran order, big-endian, complex', () => {
    py(writeScript);
    assert.throws(() => decodeNpy(readFileSync(join(dir, 'fortran.npy')), 'fortran.npy'), /fortran\.npy: Fortran-order arrays are not supported/);
    assert.throws(() => decodeNpy(readFileSync(join(dir, 'bigendian.npy')), 'bigendian.npy'), /bigendian\.npy: dtype >f4 is not supported/);
    assert.throws(() => decodeNpy(readFileSync(join(dir, 'complex.npy')), 'complex.npy'), /complex\.npy: dtype <c8 is not supported/);
  });

  it('numpy reads what the encoder writes, dtype, shape and values', () => {
    const tensors = {
      float32: { dtype: 'float32', shape: [2, 3], data: Float32Array.from([-1.5, 0, 2.25, 1e-45, Infinity, -Infinity]) },
      float64: { dtype: 'float64', shape: [3], data: Float64Array.from([Math.PI, -0, 5e-324]) },
      float16: { dtype: 'float16', shape: [2, 2], data: Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001]) },
      int8: { dtype: 'int8', shape: [4], data: Int8Array.from([-128, 127, 0, -1]) },
      uint8: { dtype: 'uint8', shape: [1, 3], data: Uint8Array.from([0, 128, 255]) },
      int16: { dtype: 'int16', shape: [2], data: Int16Array.from([-32768, 32767]) },
      int32: { dtype: 'int32', shape: [1, 1, 2], data: Int32Array.from([-2147483648, 2147483647]) },
      int64: { dtype: 'int64', shape: [2], data: BigInt64Array.from([-(2n ** 62n), 2n ** 62n]) },
      bool: { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
      rank4: { dtype: 'float32', shape: [1, 2, 2, 1], data: Float32Array.from([1, 2, 3, 4]) },
    };
    for (const [name, t] of Object.entries(tensors)) writeFileSync(join(dir, `${name}.ours.npy`), encodeNpy(t));
    writeFileSync(join(dir, 'written.json'), JSON.stringify(Object.keys(tensors)));
    const read = py(readScript);
    for (const [name, t] of Object.entries(tensors)) {
      const r = read[name];
      assert.equal(r.dtype, descrOf[t.dtype], name);
      assert.deepEqual(r.shape, t.shape, name);
      assert.equal(r.fortran, false, name);
      const ours = t.dtype === 'int64' ? plain(t.data).map(Number) : plain(t.data);
      assert.deepEqual(r.values.map(fromPython), ours, name);
    }
  });
});
