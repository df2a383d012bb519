#!/usr/bin/env node
// Every input length from 0 to 1300 samples fed to melspectrogram.tflite (input [1, n]), each in a
// child of its own standing for a user's service: how did each call end — ran, a typed error, or
// the process killed? Run it on the SDK under test (dist/, or a BENCH_SDK snapshot).
//
//   node bench/shape-sweep.mjs
import { spawnSync } from 'node:child_process';
import { modelPaths, sdkEntry } from './paths.mjs';

const sdk = sdkEntry;
const model = modelPaths('melspectrogram').tflite;
const ends = {}; const deaths = [];
for (let n = 0; n <= 1300; n++) {
  const script = `import { openModel } from '${sdk}'; const m = await openModel('${model}'); try { m.runSync({ [m.inputs[0].name]: { dtype: 'float32', shape: [1, ${n}], data: new Float32Array(${n}) } }); console.log('ran'); } catch (e) { console.log(e.name); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const how = r.signal ? `killed by ${r.signal}` : r.stdout.trim().split('\n').at(-1);
  ends[how] = (ends[how] ?? 0) + 1;
  if (r.signal) deaths.push(n);
}
console.log(JSON.stringify(ends));
const ranges = []; for (const n of deaths) { const last = ranges.at(-1); if (last && last[1] === n - 1) last[1] = n; else ranges.push([n, n]); }
console.log('deaths at lengths', ranges.map(([a, b]) => a === b ? `${a}` : `${a}–${b}`).join(', '));
