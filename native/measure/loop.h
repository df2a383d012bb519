// The latency loop: the runtime call between two clock reads, nothing else, on the calling thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../runtime/runtime.h"
#include "affinity.h"
#include "alloc_counters.h"
#include "clock.h"
#include "feed_cycle.h"

namespace model_audit {

// Every field is set by the caller (the TypeScript side resolves the defaults, in one place).
struct WarmupOptions {
  int64_t iterations = 0;     // at least this many
  int64_t durationNs = 0;     // and at least this long
  bool untilStable = false;   // then until batch medians settle
  int64_t batchSize = 1;
  double tolerance = 0;       // max spread of the last 3 batch medians, relative
  int64_t maxIterations = 0;
  int64_t maxDurationNs = 0;
};

struct LoopOptions {
  WarmupOptions warmup;
  int64_t iterations = 0;   // 0: no iteration limit
  int64_t durationNs = 0;   // 0: no time limit (one of the two is set)
  int64_t maxSamples = 0;
  int cpu = -1;             // pin the measuring thread; -1: leave it where the scheduler puts it
  int counterSlot = -1;     // allocation counters to read at phase boundaries; -1: none
  // Counting costs each allocation a few atomic adds, which a timed loop would include: by default
  // the counters are suspended while the steady state is timed, and a separate counted pass of
  // `memoryIterations` untimed inferences gives the per-inference figures.
  bool countSteadyState = false;
  // Measure the clock and the harness's own cost first (about 10 ms); soak windows skip it.
  bool measureHarness = false;
  int64_t memoryIterations = 0;
};

struct LoopResult {
  std::vector<int64_t> samplesNs;  // steady state, one per inference
  std::vector<uint32_t> sets;      // the feed set each steady-state sample ran
  int64_t firstRunNs = 0;
  int64_t warmupIterations = 0;
  int64_t warmupNs = 0;
  bool warmupStable = false;
  int64_t steadyWallNs = 0;        // from the first clock read of the steady state to the last
  bool hitSampleLimit = false;
  std::vector<int> cpus;           // CPUs the measuring thread was seen on during the steady state
  int64_t cpuChanges = 0;          // changes of CPU seen between iterations
  ThreadCounters counters;         // deltas over the steady state
  double harnessOverheadNs = 0;    // median of the same timed loop around an empty call
  ClockInfo clock{};               // measured on the measuring thread before the loop
  int pinnedCpu = -1;
  std::string pinError;
  bool failed = false;
  Error error{ErrorKind::kRuntime, "", ""};
  std::string failedPhase;
  PhaseMemory firstRunMemory;
  PhaseMemory warmupMemory;
  PhaseMemory steadyMemory;     // only when the timed steady state was counted
  PhaseMemory memoryPassMemory; // the separate counted pass
  int64_t memoryPassIterations = 0;
  bool steadyStateCounted = false;
};

// Runs first run, warm-up and steady state over the feed sets of `feeds` (the first run is set
// 0's). A runtime failure ends the loop early and is reported in the result with every sample
// taken before it.
LoopResult RunLatencyLoop(FeedCycle& feeds, const LoopOptions& options);

// Median cost of the timed loop around a call that does nothing: what the harness adds.
double MeasureHarnessOverheadNs(int iterations);

}  // namespace model_audit
