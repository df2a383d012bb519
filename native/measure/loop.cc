#include "loop.h"

#include <algorithm>

#include "clock.h"

namespace model_audit {

namespace {

// A call that does nothing, behind the same virtual interface as a runtime, so the empty loop
// pays exactly the dispatch the real one pays.
class EmptyRun final : public PreparedRun {
 public:
  bool Bind() override { return true; }
  bool Invoke() override { return true; }
  void ReleaseOutputs() override {}
  std::vector<OutputTensor> TakeOutputs() override { return {}; }
  Error LastError() const override { return Error{ErrorKind::kRuntime, "", ""}; }
};

// Writes up to `capacity` samples into `out`; stops early at `deadlineNs` (0: none) or on failure.
// Returns the number of samples written.
struct TimedResult {
  int64_t count = 0;
  bool failed = false;
  int64_t firstNs = 0;
  int64_t lastNs = 0;
};

// `sets` (may be null) receives each sample's feed set. A failed bind or run ends the loop;
// `failedRun` then names the run whose LastError says why.
TimedResult TimedLoop(FeedCycle& feeds, int64_t* out, uint32_t* sets, int64_t capacity, int64_t durationNs, CpuTrail* trail,
                      PreparedRun** failedRun) {
  TimedResult result;
  const int64_t start = NowNs();
  result.firstNs = start;
  result.lastNs = start;
  for (int64_t i = 0; i < capacity; ++i) {
    uint32_t set = 0;
    PreparedRun* run = feeds.Next(&set);  // binds the set's inputs: before the first clock read
    if (run == nullptr) {
      *failedRun = feeds.failed();
      result.failed = true;
      result.count = i;
      return result;
    }
    const int64_t t0 = NowNs();
    const bool ok = run->Invoke();
    const int64_t t1 = NowNs();
    // Everything below is outside the timed region.
    out[i] = t1 - t0;
    if (sets != nullptr) sets[i] = set;
    run->ReleaseOutputs();
    result.lastNs = t1;
    if (!ok) {
      *failedRun = run;
      result.failed = true;
      result.count = i;
      return result;
    }
    if (trail != nullptr) trail->Observe();
    if (durationNs > 0 && t1 - start >= durationNs) {
      result.count = i + 1;
      return result;
    }
  }
  result.count = capacity;
  return result;
}

int64_t Median(std::vector<int64_t> values) {
  if (values.empty()) return 0;
  auto middle = values.begin() + values.size() / 2;
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

}  // namespace

double MeasureHarnessOverheadNs(int iterations) {
  EmptyRun empty;
  FeedCycle feeds({&empty}, false, 0);
  std::vector<int64_t> samples(iterations);
  PreparedRun* failed = nullptr;
  TimedLoop(feeds, samples.data(), nullptr, iterations, 0, nullptr, &failed);
  return static_cast<double>(Median(samples));
}

LoopResult RunLatencyLoop(FeedCycle& feeds, const LoopOptions& options) {
  LoopResult result;
  if (options.cpu >= 0) {
    result.pinError = PinCurrentThread(options.cpu);
    if (result.pinError.empty()) result.pinnedCpu = options.cpu;
  }
  if (options.measureHarness) {
    result.clock = MeasureClock();
    result.harnessOverheadNs = MeasureHarnessOverheadNs(10000);
  }

  auto fail = [&](const char* phase, PreparedRun* run) {
    result.failed = true;
    result.error = run != nullptr ? run->LastError() : Error{ErrorKind::kRuntime, "no feed set to run", ""};
    result.failedPhase = phase;
  };

  // Counter reads and peak resets sit between phases, never inside a timed region.
  const int slot = options.counterSlot;
  auto beginPhase = [slot](PhaseMemory& phase) {
    ResetAllocPeak(slot);
    phase.start = ReadAllocCounters(slot);
  };
  auto endPhase = [slot](PhaseMemory& phase) { phase.end = ReadAllocCounters(slot); };

  // First run: the cold call, reported on its own.
  beginPhase(result.firstRunMemory);
  {
    PreparedRun* run = feeds.Bound(0);
    if (run == nullptr) {
      endPhase(result.firstRunMemory);
      fail("first run", feeds.failed());
      return result;
    }
    const int64_t t0 = NowNs();
    const bool ok = run->Invoke();
    const int64_t t1 = NowNs();
    run->ReleaseOutputs();
    result.firstRunNs = t1 - t0;
    endPhase(result.firstRunMemory);
    if (!ok) {
      fail("first run", run);
      return result;
    }
  }

  // Warm-up, in batches so that "until stable" can look at batch medians.
  const WarmupOptions& warmup = options.warmup;
  const int64_t batch = std::max<int64_t>(1, warmup.batchSize);
  std::vector<int64_t> batchSamples(batch);
  std::vector<int64_t> medians;
  beginPhase(result.warmupMemory);
  const int64_t warmupStart = NowNs();
  while (true) {
    const int64_t elapsed = NowNs() - warmupStart;
    const bool minimumDone = result.warmupIterations >= warmup.iterations && elapsed >= warmup.durationNs;
    if (minimumDone && (!warmup.untilStable || result.warmupStable)) break;
    if (result.warmupIterations >= warmup.maxIterations || elapsed >= warmup.maxDurationNs) break;
    int64_t size = batch;
    if (!warmup.untilStable && warmup.durationNs == 0) size = std::min(batch, warmup.iterations - result.warmupIterations);
    if (size <= 0) size = 1;
    PreparedRun* failedRun = nullptr;
    TimedResult timed = TimedLoop(feeds, batchSamples.data(), nullptr, size, 0, nullptr, &failedRun);
    result.warmupIterations += timed.count;
    if (timed.failed) {
      result.warmupNs = NowNs() - warmupStart;
      endPhase(result.warmupMemory);
      fail("warm-up", failedRun);
      return result;
    }
    if (timed.count == batch) {
      medians.push_back(Median(std::vector<int64_t>(batchSamples.begin(), batchSamples.begin() + timed.count)));
      if (medians.size() >= 3) {
        auto last = medians.end() - 3;
        const int64_t lo = *std::min_element(last, medians.end());
        const int64_t hi = *std::max_element(last, medians.end());
        result.warmupStable = lo > 0 && static_cast<double>(hi - lo) / static_cast<double>(lo) <= warmup.tolerance;
      }
    }
  }
  result.warmupNs = NowNs() - warmupStart;
  endPhase(result.warmupMemory);

  // The counted memory pass: per-inference allocations without a clock around them.
  if (slot >= 0 && options.memoryIterations > 0) {
    beginPhase(result.memoryPassMemory);
    for (int64_t i = 0; i < options.memoryIterations; ++i) {
      uint32_t set = 0;
      PreparedRun* run = feeds.Next(&set);
      const bool ok = run != nullptr && run->Invoke();
      if (run != nullptr) run->ReleaseOutputs();
      if (!ok) {
        endPhase(result.memoryPassMemory);
        fail("memory pass", run != nullptr ? run : feeds.failed());
        return result;
      }
      ++result.memoryPassIterations;
    }
    endPhase(result.memoryPassMemory);
  }
  const bool suspend = slot >= 0 && !options.countSteadyState;
  result.steadyStateCounted = slot >= 0 && options.countSteadyState;

  // Steady state. The buffer is allocated and touched before the first clock read.
  int64_t capacity = options.iterations > 0 ? options.iterations : options.maxSamples;
  capacity = std::min(capacity, options.maxSamples);
  result.samplesNs.assign(static_cast<size_t>(capacity), 0);
  result.sets.assign(static_cast<size_t>(capacity), 0);
  CpuTrail trail;
  trail.Reserve(1024);
  trail.Observe();
  MigrationCounter migrations;
  beginPhase(result.steadyMemory);
  if (suspend) SuspendAllocationCounters(slot);
  const ThreadCounters before = ReadThreadCounters(migrations);
  PreparedRun* failedRun = nullptr;
  TimedResult timed = TimedLoop(feeds, result.samplesNs.data(), result.sets.data(), capacity, options.durationNs, &trail, &failedRun);
  const ThreadCounters after = ReadThreadCounters(migrations);
  if (suspend) ResumeAllocationCounters(slot);
  endPhase(result.steadyMemory);
  result.samplesNs.resize(static_cast<size_t>(timed.count));
  result.sets.resize(static_cast<size_t>(timed.count));
  result.steadyWallNs = timed.lastNs - timed.firstNs;
  result.hitSampleLimit = !timed.failed && options.durationNs > 0 && timed.count == capacity &&
                          (options.iterations == 0 || capacity < options.iterations);
  result.cpus = trail.Cpus();
  result.cpuChanges = trail.changes();
  result.counters.voluntarySwitches = after.voluntarySwitches - before.voluntarySwitches;
  result.counters.involuntarySwitches = after.involuntarySwitches - before.involuntarySwitches;
  result.counters.migrations =
      before.migrations >= 0 && after.migrations >= 0 ? after.migrations - before.migrations : -1;
  if (timed.failed) fail("steady state", failedRun);
  return result;
}

}  // namespace model_audit
