#!/usr/bin/env node
// Waits until the machine has been idle (all CPUs together under --busy % of one CPU) for
// --seconds in a row, checking /proc/stat every second; gives up after --timeout seconds.
//   node bench/wait-idle.mjs [--seconds 5] [--busy 5] [--timeout 300]
import { readFileSync } from 'node:fs';
import { parseArgs } from './args.mjs';

const opts = parseArgs({ seconds: 5, busy: 5, timeout: 300 }, 'usage: node bench/wait-idle.mjs [--seconds 5] [--busy 5] [--timeout 300]');
const busyJiffies = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let quietFor = 0;
let prev = busyJiffies();
for (let t = 0; t < opts.timeout; t++) {
  await sleep(1000);
  const now = busyJiffies();
  quietFor = now - prev <= opts.busy ? quietFor + 1 : 0; // 100 jiffies = one CPU-second
  prev = now;
  if (quietFor >= opts.seconds) process.exit(0);
}
console.error(`wait-idle: the machine was not idle for ${opts.seconds} s within ${opts.timeout} s; going on`);
