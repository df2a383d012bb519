/**
 * Memory of the runtime library alone, from allocator-level counters: every malloc, calloc,
 * realloc, free, posix_memalign, aligned_alloc, memalign, operator new/delete and mmap/munmap the
 * library itself makes. Process figures sit beside them as a cross-check.
 */
import { native, type NativeAllocSnapshot, type NativePhaseMemory } from '../native.js';
import { resolveLibraryPath, type RuntimeKind } from './runtimes.js';

/** Cumulative counters of one runtime library since counting began for it (field for field what the addon reports). */
export interface AllocationCounters {
  /** Allocations: malloc, calloc, posix_memalign, aligned_alloc, memalign, new, new[], and each realloc. */
  allocations: number;
  /** Frees: free, delete, delete[], and each realloc of a non-null block. */
  frees: number;
  /** Usable bytes the allocator handed out (malloc_usable_size: at least what was asked). */
  allocatedBytes: number;
  freedBytes: number;
  /** allocatedBytes − freedBytes. */
  liveBytes: number;
  /** High-water mark of liveBytes since the last resetPeak(). */
  peakLiveBytes: number;
  mmapCalls: number;
  munmapCalls: number;
  mappedBytes: number;
  unmappedBytes: number;
  peakMappedLiveBytes: number;
  /** Allocations made by the runtime's own threads while a model-audit call was inside the runtime. */
  otherThreadAllocations: number;
}

/** What the runtime library allocated during one phase. */
export interface MemoryPhase {
  allocations: number;
  frees: number;
  allocatedBytes: number;
  freedBytes: number;
  /** Live bytes at the end minus at the start. */
  netBytes: number;
  /** The phase's high-water mark above its starting live level. */
  peakBytesAboveStart: number;
  liveBytesAtStart: number;
  liveBytesAtEnd: number;
  mmapCalls: number;
  munmapCalls: number;
  mappedBytes: number;
  unmappedBytes: number;
  otherThreadAllocations: number;
}

/** Per steady-state inference. */
export interface PerInferenceMemory {
  allocations: number;
  allocatedBytes: number;
  netGrowthBytes: number;
}

/** Process-wide figures, for a cross-check: they mix Node's heap, the runtime and everything else. */
export interface ProcessMemory {
  rssBytes: number;
  /** Lifetime peak RSS of the process (it never goes down). */
  peakRssBytes: number;
  /** glibc mallinfo2 uordblks + hblkhd (large blocks live in hblkhd); null without mallinfo2. */
  heapInUseBytes: number | null;
  heapArenaBytes: number | null;
  heapMmappedBytes: number | null;
}

/** A model's memory right now. */
export interface MemorySnapshot {
  /** Whether the runtime library's allocations are being counted. */
  counted: boolean;
  /** Why not, when they are not. */
  notCountedReason: string | null;
  runtime: RuntimeKind;
  libraryPath: string;
  /** The library's cumulative counters (every session of that library together). */
  counters: AllocationCounters;
  process: ProcessMemory;
  /** ONNX Runtime's own allocator statistics: not part of the C API version model-audit uses (21). */
  runtimeAllocatorStats: null;
}

export function toPhase(phase: NativePhaseMemory): MemoryPhase | null {
  if (!phase.measured) return null;
  const { start, end } = phase;
  return {
    allocations: end.allocations - start.allocations,
    frees: end.frees - start.frees,
    allocatedBytes: end.allocatedBytes - start.allocatedBytes,
    freedBytes: end.freedBytes - start.freedBytes,
    netBytes: end.liveBytes - start.liveBytes,
    peakBytesAboveStart: Math.max(0, end.peakLiveBytes - start.liveBytes),
    liveBytesAtStart: start.liveBytes,
    liveBytesAtEnd: end.liveBytes,
    mmapCalls: end.mmapCalls - start.mmapCalls,
    munmapCalls: end.munmapCalls - start.munmapCalls,
    mappedBytes: end.mappedBytes - start.mappedBytes,
    unmappedBytes: end.unmappedBytes - start.unmappedBytes,
    otherThreadAllocations: end.otherThreadAllocations - start.otherThreadAllocations,
  };
}

export function perInference(phase: MemoryPhase | null, iterations: number): PerInferenceMemory | null {
  if (phase === null || iterations <= 0) return null;
  return {
    allocations: phase.allocations / iterations,
    allocatedBytes: phase.allocatedBytes / iterations,
    netGrowthBytes: phase.netBytes / iterations,
  };
}

export function toCounters(snapshot: NativeAllocSnapshot): AllocationCounters {
  return { ...snapshot };
}

export function processMemory(): ProcessMemory {
  const heap = native().heapInfo();
  return {
    rssBytes: process.memoryUsage.rss(),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    heapInUseBytes: heap?.inUseBytes ?? null,
    heapArenaBytes: heap?.arenaBytes ?? null,
    heapMmappedBytes: heap?.mmappedBytes ?? null,
  };
}

/** A runtime library's counters, whether or not a model is open (null: never counted in this process). */
export interface RuntimeMemory {
  runtime: RuntimeKind;
  libraryPath: string;
  counted: boolean;
  counters: AllocationCounters | null;
}

/** Reads the counters of a runtime library (loading it if needed). */
export function runtimeMemory(runtime: RuntimeKind, libraryPath?: string): RuntimeMemory {
  const path = resolveLibraryPath(runtime, libraryPath);
  const info = native().runtimeInfo(runtime, path);
  return { runtime, libraryPath: path, counted: info.counted, counters: info.counters ? toCounters(info.counters) : null };
}
