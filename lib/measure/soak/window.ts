/**
 * One window of a soak: what ran in it and what memory looked like at its end.
 */
export interface SoakWindow {
  index: number;
  /** Since the soak started. */
  startMs: number;
  endMs: number;
  /** Inferences run in the window. */
  inferences: number;
  /** Cumulative inferences at the end of the window. */
  totalInferences: number;
  latency: { minNs: number; p50Ns: number; p90Ns: number; p99Ns: number; maxNs: number; meanNs: number };
  /** With pacing: the runtime call alone. */
  serviceP50Ns: number | null;
  /** Runtime library live bytes (allocator counters) at the end of the window; null when not counted. */
  runtimeLiveBytes: number | null;
  rssBytes: number;
  heapInUseBytes: number | null;
}

