/**
 * The machine a measurement ran on: CPU, ISA features that matter for inference, kernel, Node,
 * runtime libraries. Every result carries one.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { addonPath, native } from '../native.js';
import type { RuntimeLibraryInfo } from './runtimes.js';

export interface CpuFacts {
  model: string;
  vendor: string;
  architecture: string;
  /** Logical CPUs (hardware threads) online. */
  logicalCpus: number;
  /** Physical cores (distinct core ids per package). */
  physicalCores: number;
  packages: number;
  /** Whether some core runs more than one hardware thread. */
  smt: boolean;
  /** The ISA extensions inference kernels use, as the kernel names them (avx2, avx512_vnni, asimddp, …). */
  isa: string[];
  /** CPUs this process may run on. */
  allowedCpus: number[];
  /** The frequency governor of each CPU, where the kernel exposes cpufreq. */
  governors: Record<number, string>;
  /**
   * How this process was found to run under user-mode emulation (qemu-user: its QEMU_LD_PREFIX set,
   * or a CPU model that names it), or null. Timings taken there are not the CPU's speed.
   */
  emulated: string | null;
}

export interface Environment {
  cpu: CpuFacts;
  os: { platform: string; kernel: string; release: string };
  memory: { totalBytes: number };
  node: { version: string; napiVersion: string; v8: string };
  addon: { path: string };
  runtimes: RuntimeLibraryInfo[];
  /** When this was taken, ISO 8601. */
  takenAt: string;
}

const interestingIsa = new Set([
  // x86
  'sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16',
  'avx_vnni', 'amx_tile', 'amx_int8', 'amx_bf16',
  // arm64
  'asimd', 'asimddp', 'asimdhp', 'fphp', 'sve', 'sve2', 'i8mm', 'bf16', 'sme',
]);

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Parses a kernel CPU list such as "0-3,6,8-9". */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let c = a; c <= (b ?? a); c++) cpus.push(c);
  }
  return cpus;
}

/** CPUs this process may run on (its affinity mask). */
export function allowedCpus(): number[] {
  const status = readText('/proc/self/status');
  const line = status?.split('\n').find((l) => l.startsWith('Cpus_allowed_list:'));
  if (line) return parseCpuList(line.split(':')[1] ?? '');
  return os.cpus().map((_, i) => i);
}

/** The hardware threads sharing a core with `cpu`, itself included. */
export function smtSiblings(cpu: number): number[] {
  const text = readText(`/sys/devices/system/cpu/cpu${cpu}/topology/thread_siblings_list`);
  return text ? parseCpuList(text) : [cpu];
}

export function governorOf(cpu: number): string | undefined {
  return readText(`/sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_governor`)?.trim();
}

function cpuFacts(): CpuFacts {
  const info = readText('/proc/cpuinfo') ?? '';
  const blocks = info.split(/\n\s*\n/).filter((b) => b.trim() !== '');
  const field = (block: string, name: string): string | undefined => {
    const line = block.split('\n').find((l) => l.split(':')[0]?.trim() === name);
    return line?.slice(line.indexOf(':') + 1).trim();
  };
  const first = blocks[0] ?? '';
  const model = field(first, 'model name') ?? field(first, 'Model') ?? os.cpus()[0]?.model ?? 'unknown';
  const vendor = field(first, 'vendor_id') ?? field(first, 'CPU implementer') ?? 'unknown';
  const flags = (field(first, 'flags') ?? field(first, 'Features') ?? '').split(/\s+/);
  const cores = new Set<string>();
  const packages = new Set<string>();
  for (const block of blocks) {
    const pkg = field(block, 'physical id') ?? '0';
    packages.add(pkg);
    cores.add(`${pkg}:${field(block, 'core id') ?? field(block, 'processor')}`);
  }
  const logical = blocks.filter((b) => field(b, 'processor') !== undefined).length || os.cpus().length;
  const governors: Record<number, string> = {};
  for (let cpu = 0; cpu < logical; cpu++) {
    const g = governorOf(cpu);
    if (g) governors[cpu] = g;
  }
  return {
    model,
    vendor,
    architecture: process.arch,
    logicalCpus: logical,
    physicalCores: cores.size || logical,
    packages: packages.size || 1,
    smt: existsSync('/sys/devices/system/cpu/smt/active') ? readText('/sys/devices/system/cpu/smt/active')?.trim() === '1' : cores.size < logical,
    isa: flags.filter((f) => interestingIsa.has(f)).sort(),
    allowedCpus: allowedCpus(),
    governors,
    emulated: emulation(model),
  };
}

function emulation(cpuModel: string): string | null {
  if (process.env.QEMU_LD_PREFIX !== undefined) return 'qemu-user (QEMU_LD_PREFIX is set)';
  return /qemu/i.test(cpuModel) ? `qemu-user (CPU model "${cpuModel}")` : null;
}

/**
 * How many times longer than natively things take here: 20 under user-mode emulation (where a
 * run is tens of times slower and a Node start takes seconds), else 1. Default timeouts are
 * multiplied by it, so that emulation is not mistaken for a hang.
 */
export function slowdownFactor(): number {
  return cpuFacts().emulated ? 20 : 1;
}

/** Takes the environment fingerprint; `runtimes` are the libraries the measurement used. */
export function environment(runtimes: RuntimeLibraryInfo[] = []): Environment {
  return {
    cpu: cpuFacts(),
    os: { platform: process.platform, kernel: os.release(), release: os.version() },
    memory: { totalBytes: os.totalmem() },
    node: { version: process.version, napiVersion: process.versions.napi ?? '', v8: process.versions.v8 },
    addon: { path: addonPath },
    runtimes,
    takenAt: new Date().toISOString(),
  };
}

/** Per-CPU busy and total jiffies from /proc/stat. */
export interface CpuTimes {
  busy: number[];
  total: number[];
}

export function readCpuTimes(): CpuTimes | undefined {
  const text = readText('/proc/stat');
  if (!text) return undefined;
  const busy: number[] = [];
  const total: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const values = m[2]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    const sum = values.slice(0, 8).reduce((a, b) => a + b, 0);
    busy[Number(m[1])] = sum - idle;
    total[Number(m[1])] = sum;
  }
  return { busy, total };
}

/** Fraction of time each CPU was busy between two readings (NaN where nothing elapsed). */
export function busyFractions(before: CpuTimes, after: CpuTimes): number[] {
  return after.total.map((t, cpu) => {
    const dt = t - (before.total[cpu] ?? 0);
    return dt > 0 ? (after.busy[cpu]! - (before.busy[cpu] ?? 0)) / dt : NaN;
  });
}

/** What the measuring harness itself costs on this machine. */
export interface HarnessInfo {
  clockSource: 'CLOCK_MONOTONIC_RAW';
  /** What clock_getres reports. */
  clockResolutionNs: number;
  /** Median cost of one clock read. */
  clockReadCostNs: number;
  /** Smallest non-zero step seen between two reads. */
  clockSmallestStepNs: number;
  /** Median time of the timed loop around a call that does nothing. */
  harnessOverheadNs: number;
}

/** Measures the clock and the harness's own cost per sample (takes about 20 ms, on the calling thread). */
export function harnessInfo(): HarnessInfo {
  const info = native().harnessInfo();
  return {
    clockSource: 'CLOCK_MONOTONIC_RAW',
    clockResolutionNs: info.resolutionNs,
    clockReadCostNs: info.readCostNs,
    clockSmallestStepNs: info.smallestStepNs,
    harnessOverheadNs: info.harnessOverheadNs,
  };
}
