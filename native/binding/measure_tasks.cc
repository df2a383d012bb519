#include "measure_tasks.h"

#include <string>
#include <vector>

#include "../measure/clock.h"
#include "../measure/loop.h"
#include "../measure/throughput.h"
#include "addon.h"
#include "convert.h"
#include "errors.h"
#include "session_wrap.h"
#include "thread_task.h"

namespace model_audit {

namespace {

Napi::Float64Array SamplesToJs(Napi::Env env, const std::vector<int64_t>& samples) {
  Napi::Float64Array array = Napi::Float64Array::New(env, samples.size());
  for (size_t i = 0; i < samples.size(); ++i) array[i] = static_cast<double>(samples[i]);
  return array;
}

Napi::Uint32Array SetsToJs(Napi::Env env, const std::vector<uint32_t>& sets) {
  Napi::Uint32Array array = Napi::Uint32Array::New(env, sets.size());
  for (size_t i = 0; i < sets.size(); ++i) array[i] = sets[i];
  return array;
}

Napi::Array IntsToJs(Napi::Env env, const std::vector<int>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) array.Set(static_cast<uint32_t>(i), values[i]);
  return array;
}

Napi::Value ErrorToJs(Napi::Env env, bool failed, const Error& error) {
  if (!failed) return env.Null();
  return MakeJsError(env, error);
}

std::vector<std::shared_ptr<SessionHolder>> ReadSessions(Napi::Env env, Napi::Value value) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, "Expected an array of sessions");
  Napi::Array array = value.As<Napi::Array>();
  Napi::FunctionReference& ctor = AddonData::From(env).sessionConstructor;
  std::vector<std::shared_ptr<SessionHolder>> holders;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsObject() || !item.As<Napi::Object>().InstanceOf(ctor.Value())) {
      throw Napi::TypeError::New(env, "Expected a native session at sessions[" + std::to_string(i) + "]");
    }
    holders.push_back(SessionWrap::Unwrap(item.As<Napi::Object>())->RequireOpen(env));
  }
  if (holders.empty()) throw Napi::TypeError::New(env, "Expected at least one session");
  return holders;
}

// The bytes every feed set is timed on, one page-aligned block per tensor, with the data starting
// at a different 64-byte line of the page for each set. Where an input lies relative to the
// runtime's own buffers changes how fast some kernels run (loads and stores whose addresses agree
// modulo 4 KiB are taken for dependent); spreading the sets over the page spreads that effect
// evenly over them, rather than letting the allocator give one set, or one measurement, a lucky
// or an unlucky place.
class FeedStorage {
 public:
  std::vector<TensorView> Place(const std::vector<OwnedTensor>& set, size_t setIndex) {
    std::vector<TensorView> views;
    views.reserve(set.size());
    for (size_t i = 0; i < set.size(); ++i) {
      const OwnedTensor& tensor = set[i];
      const size_t offset = ((setIndex * 37 + i * 11) % 64) * 64;
      const size_t size = std::max<size_t>(offset + tensor.bytes.size(), 1);
      void* block = std::aligned_alloc(kPage, (size + kPage - 1) / kPage * kPage);
      if (block == nullptr) throw std::bad_alloc();
      blocks_.emplace_back(block, &std::free);
      uint8_t* data = static_cast<uint8_t*>(block) + offset;
      if (!tensor.bytes.empty()) std::memcpy(data, tensor.bytes.data(), tensor.bytes.size());
      views.push_back(TensorView{tensor.dtype, tensor.shape, data, tensor.bytes.size()});
    }
    return views;
  }

 private:
  static constexpr size_t kPage = 4096;
  std::vector<std::unique_ptr<void, void (*)(void*)>> blocks_;
};

// One prepared run per feed set on one session, and the cycle through them. The storage is
// declared first so that it outlives the runs that point into it.
struct SessionFeeds {
  std::unique_ptr<FeedStorage> storage;
  std::vector<std::unique_ptr<PreparedRun>> runs;
  std::unique_ptr<FeedCycle> cycle;
};

SessionFeeds PrepareFeeds(SessionHolder& holder, const std::vector<std::vector<OwnedTensor>>& feedSets, bool shuffle, uint64_t seed) {
  SessionFeeds feeds;
  feeds.storage = std::make_unique<FeedStorage>();
  std::vector<PreparedRun*> pointers;
  for (size_t k = 0; k < feedSets.size(); ++k) {
    feeds.runs.push_back(WithTestLeak(holder.session->Prepare(feeds.storage->Place(feedSets[k], k)), holder));
    pointers.push_back(feeds.runs.back().get());
  }
  feeds.cycle = std::make_unique<FeedCycle>(std::move(pointers), shuffle, seed, holder.options.denormalAsZero);
  return feeds;
}

// Keeps allocation counting out of the throughput loops while they run: with the counters
// installed, every allocation of every stream writes the same counters, and streams on different
// CPUs slow each other down fighting over those cache lines (benchmark() suspends them likewise;
// memory() and a counted benchmark give the per-inference figures).
class CountersSuspended {
 public:
  explicit CountersSuspended(const std::vector<std::shared_ptr<SessionHolder>>& holders) {
    for (const auto& h : holders) {
      if (h->counterSlot >= 0 && std::find(slots_.begin(), slots_.end(), h->counterSlot) == slots_.end()) slots_.push_back(h->counterSlot);
    }
    for (int slot : slots_) SuspendAllocationCounters(slot);
  }
  ~CountersSuspended() {
    for (int slot : slots_) ResumeAllocationCounters(slot);
  }
  CountersSuspended(const CountersSuspended&) = delete;
  CountersSuspended& operator=(const CountersSuspended&) = delete;

 private:
  std::vector<int> slots_;
};

// Prepares every feed set on every session; holds each session's run lock.
struct PreparedStreams {
  std::vector<std::shared_ptr<SessionHolder>> holders;
  std::vector<std::unique_ptr<RunScope>> scopes;
  std::vector<SessionFeeds> feeds;
  std::vector<FeedCycle*> cycles;

  void Prepare(const std::vector<std::vector<OwnedTensor>>& feedSets, bool shuffle, uint64_t seed) {
    try {
      for (size_t s = 0; s < holders.size(); ++s) {
        // The streams run on threads of their own: no caller is registered for the counters.
        scopes.push_back(std::make_unique<RunScope>(*holders[s], RunScope::Caller::kNone));
        feeds.push_back(PrepareFeeds(*holders[s], feedSets, shuffle, seed + s));
        cycles.push_back(feeds.back().cycle.get());
      }
    } catch (...) {
      Release();
      throw;
    }
  }

  // Must run on the thread that prepared: a mutex is unlocked by the thread that locked it.
  void Release() {
    cycles.clear();
    feeds.clear();
    scopes.clear();
  }
};

class BenchmarkTask final : public ThreadTask {
 public:
  BenchmarkTask(std::shared_ptr<SessionHolder> holder, std::vector<std::vector<OwnedTensor>> feedSets, LoopOptions options,
                bool shuffle, uint64_t shuffleSeed)
      : holder_(std::move(holder)), feedSets_(std::move(feedSets)), options_(options), shuffle_(shuffle), shuffleSeed_(shuffleSeed) {}

  void Execute() override {
    RunScope scope(*holder_);
    coldSession_ = scope.firstRun();
    SessionFeeds feeds = PrepareFeeds(*holder_, feedSets_, shuffle_, shuffleSeed_);
    options_.counterSlot = holder_->counterSlot;
    result_ = RunLatencyLoop(*feeds.cycle, options_);
    counted_ = CountersInstalled(holder_->counterSlot);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("samplesNs", SamplesToJs(env, result_.samplesNs));
    out.Set("sets", SetsToJs(env, result_.sets));
    out.Set("firstRunNs", static_cast<double>(result_.firstRunNs));
    out.Set("coldSession", coldSession_);
    out.Set("warmupIterations", static_cast<double>(result_.warmupIterations));
    out.Set("warmupNs", static_cast<double>(result_.warmupNs));
    out.Set("warmupStable", result_.warmupStable);
    out.Set("steadyWallNs", static_cast<double>(result_.steadyWallNs));
    out.Set("hitSampleLimit", result_.hitSampleLimit);
    out.Set("cpus", IntsToJs(env, result_.cpus));
    out.Set("cpuChanges", static_cast<double>(result_.cpuChanges));
    out.Set("migrations", static_cast<double>(result_.counters.migrations));
    out.Set("voluntaryContextSwitches", static_cast<double>(result_.counters.voluntarySwitches));
    out.Set("involuntaryContextSwitches", static_cast<double>(result_.counters.involuntarySwitches));
    out.Set("harnessOverheadNs", result_.harnessOverheadNs);
    out.Set("clockResolutionNs", static_cast<double>(result_.clock.resolutionNs));
    out.Set("clockReadCostNs", result_.clock.readCostNs);
    out.Set("clockSmallestStepNs", static_cast<double>(result_.clock.smallestStepNs));
    out.Set("pinnedCpu", result_.pinnedCpu);
    out.Set("pinError", result_.pinError);
    out.Set("error", ErrorToJs(env, result_.failed, result_.error));
    out.Set("failedPhase", result_.failedPhase);
    Napi::Object memory = Napi::Object::New(env);
    memory.Set("counted", counted_);
    auto phase = [&](const PhaseMemory& m) {
      return PhaseMemoryToJs(env, PhaseMemory{m.start, m.end, counted_});
    };
    memory.Set("firstRun", phase(result_.firstRunMemory));
    memory.Set("warmup", phase(result_.warmupMemory));
    memory.Set("steadyStateCounted", result_.steadyStateCounted);
    memory.Set("steadyState", PhaseMemoryToJs(env, PhaseMemory{result_.steadyMemory.start, result_.steadyMemory.end,
                                                               result_.steadyStateCounted}));
    memory.Set("memoryPass", phase(result_.memoryPassMemory));
    memory.Set("memoryPassIterations", static_cast<double>(result_.memoryPassIterations));
    out.Set("memory", memory);
    return out;
  }

 private:
  std::shared_ptr<SessionHolder> holder_;
  std::vector<std::vector<OwnedTensor>> feedSets_;
  LoopOptions options_;
  bool shuffle_;
  uint64_t shuffleSeed_;
  LoopResult result_;
  bool coldSession_ = false;
  bool counted_ = false;
};

class ClosedLoopTask final : public ThreadTask {
 public:
  ClosedLoopTask(PreparedStreams streams, std::vector<std::vector<OwnedTensor>> feedSets, std::vector<int> cpus, int64_t durationNs,
                 int64_t warmupIterations, int64_t maxSamples, bool shuffle, uint64_t shuffleSeed)
      : streams_(std::move(streams)),
        feedSets_(std::move(feedSets)),
        shuffle_(shuffle),
        shuffleSeed_(shuffleSeed),
        cpus_(std::move(cpus)),
        durationNs_(durationNs),
        warmupIterations_(warmupIterations),
        maxSamples_(maxSamples) {}

  void Execute() override {
    streams_.Prepare(feedSets_, shuffle_, shuffleSeed_);
    {
      CountersSuspended quiet(streams_.holders);
      result_ = RunClosedLoop(streams_.cycles, cpus_, durationNs_, warmupIterations_, maxSamples_);
    }
    streams_.Release();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("wallNs", static_cast<double>(result_.wallNs));
    Napi::Array streams = Napi::Array::New(env, result_.streams.size());
    for (size_t i = 0; i < result_.streams.size(); ++i) {
      const StreamResult& stream = result_.streams[i];
      Napi::Object s = Napi::Object::New(env);
      s.Set("samplesNs", SamplesToJs(env, stream.samplesNs));
      s.Set("cpus", IntsToJs(env, stream.cpus));
      s.Set("pinError", stream.pinError);
      s.Set("error", ErrorToJs(env, stream.failed, stream.error));
      streams.Set(static_cast<uint32_t>(i), s);
    }
    out.Set("streams", streams);
    return out;
  }

 private:
  PreparedStreams streams_;
  std::vector<std::vector<OwnedTensor>> feedSets_;
  bool shuffle_;
  uint64_t shuffleSeed_;
  std::vector<int> cpus_;
  int64_t durationNs_;
  int64_t warmupIterations_;
  int64_t maxSamples_;
  ClosedLoopResult result_;
};

class OpenLoopTask final : public ThreadTask {
 public:
  OpenLoopTask(PreparedStreams streams, std::vector<std::vector<OwnedTensor>> feedSets, std::vector<int> cpus,
               std::vector<int64_t> arrivals, int64_t graceNs, int64_t warmupIterations)
      : streams_(std::move(streams)),
        feedSets_(std::move(feedSets)),
        cpus_(std::move(cpus)),
        arrivals_(std::move(arrivals)),
        graceNs_(graceNs),
        warmupIterations_(warmupIterations) {}

  void Execute() override {
    streams_.Prepare(feedSets_, false, 0);
    {
      CountersSuspended quiet(streams_.holders);
      result_ = RunOpenLoop(streams_.cycles, cpus_, arrivals_, graceNs_, warmupIterations_);
    }
    streams_.Release();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("latencyNs", SamplesToJs(env, result_.latencyNs));
    out.Set("serviceNs", SamplesToJs(env, result_.serviceNs));
    out.Set("completed", static_cast<double>(result_.completed));
    out.Set("wallNs", static_cast<double>(result_.wallNs));
    Napi::Array pinErrors = Napi::Array::New(env, result_.pinErrors.size());
    for (size_t i = 0; i < result_.pinErrors.size(); ++i) pinErrors.Set(static_cast<uint32_t>(i), result_.pinErrors[i]);
    out.Set("pinErrors", pinErrors);
    out.Set("error", ErrorToJs(env, result_.failed, result_.error));
    return out;
  }

 private:
  PreparedStreams streams_;
  std::vector<std::vector<OwnedTensor>> feedSets_;
  std::vector<int> cpus_;
  std::vector<int64_t> arrivals_;
  int64_t graceNs_;
  int64_t warmupIterations_;
  OpenLoopResult result_;
};

}  // namespace

Napi::Value StartBenchmark(const Napi::CallbackInfo& info, std::shared_ptr<SessionHolder> holder) {
  Napi::Env env = info.Env();
  std::vector<std::vector<OwnedTensor>> feedSets = ReadFeedSets(env, info[0]);
  Napi::Object o = RequireObject(env, info[1], "benchmark options");
  LoopOptions options;
  options.warmup.iterations = ReadInt64(o, "warmupIterations");
  options.warmup.durationNs = ReadInt64(o, "warmupDurationNs");
  options.warmup.untilStable = ReadBool(o, "warmupUntilStable");
  options.warmup.batchSize = ReadInt64(o, "warmupBatchSize");
  options.warmup.tolerance = ReadDouble(o, "warmupTolerance");
  options.warmup.maxIterations = ReadInt64(o, "warmupMaxIterations");
  options.warmup.maxDurationNs = ReadInt64(o, "warmupMaxDurationNs");
  options.iterations = ReadInt64(o, "iterations");
  options.durationNs = ReadInt64(o, "durationNs");
  options.maxSamples = ReadInt64(o, "maxSamples");
  options.cpu = ReadInt(o, "cpu");
  options.countSteadyState = ReadBool(o, "countSteadyState");
  options.memoryIterations = ReadInt64(o, "memoryIterations");
  options.measureHarness = ReadBool(o, "measureHarness");
  const bool shuffle = ReadBool(o, "shuffle");
  const uint64_t shuffleSeed = static_cast<uint64_t>(ReadInt64(o, "shuffleSeed"));
  if (options.iterations <= 0 && options.durationNs <= 0) {
    throw Napi::RangeError::New(env, "Expected iterations or durationNs above 0");
  }
  return ThreadTask::Start(env, std::make_unique<BenchmarkTask>(std::move(holder), std::move(feedSets), options, shuffle, shuffleSeed));
}

Napi::Value ThroughputClosed(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    PreparedStreams streams;
    streams.holders = ReadSessions(env, info[0]);
    std::vector<std::vector<OwnedTensor>> feedSets = ReadFeedSets(env, info[1]);
    Napi::Object o = RequireObject(env, info[2], "throughput options");
    const int64_t durationNs = ReadInt64(o, "durationNs");
    const int64_t warmupIterations = ReadInt64(o, "warmupIterations");
    const int64_t maxSamples = ReadInt64(o, "maxSamples");
    const bool shuffle = ReadBool(o, "shuffle");
    const uint64_t shuffleSeed = static_cast<uint64_t>(ReadInt64(o, "shuffleSeed"));
    std::vector<int> cpus = ReadIntArray(o, "cpus");
    return ThreadTask::Start(env, std::make_unique<ClosedLoopTask>(std::move(streams), std::move(feedSets), std::move(cpus),
                                                                   durationNs, warmupIterations, maxSamples, shuffle, shuffleSeed));
  });
}

Napi::Value ThroughputOpen(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    PreparedStreams streams;
    streams.holders = ReadSessions(env, info[0]);
    std::vector<std::vector<OwnedTensor>> feedSets = ReadFeedSets(env, info[1]);
    Napi::Object o = RequireObject(env, info[2], "throughput options");
    Napi::Value arrivalsValue = o.Get("arrivalsNs");
    if (!arrivalsValue.IsTypedArray() || arrivalsValue.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      throw Napi::TypeError::New(env, "Expected a Float64Array for arrivalsNs");
    }
    Napi::Float64Array arrivalsArray = arrivalsValue.As<Napi::Float64Array>();
    std::vector<int64_t> arrivals(arrivalsArray.ElementLength());
    for (size_t i = 0; i < arrivals.size(); ++i) arrivals[i] = static_cast<int64_t>(arrivalsArray[i]);
    const int64_t graceNs = ReadInt64(o, "graceNs");
    const int64_t warmupIterations = ReadInt64(o, "warmupIterations");
    std::vector<int> cpus = ReadIntArray(o, "cpus");
    return ThreadTask::Start(env, std::make_unique<OpenLoopTask>(std::move(streams), std::move(feedSets), std::move(cpus),
                                                                 std::move(arrivals), graceNs, warmupIterations));
  });
}

Napi::Value HarnessInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ClockInfo clock = MeasureClock();
  Napi::Object result = Napi::Object::New(env);
  result.Set("resolutionNs", static_cast<double>(clock.resolutionNs));
  result.Set("readCostNs", clock.readCostNs);
  result.Set("smallestStepNs", static_cast<double>(clock.smallestStepNs));
  result.Set("harnessOverheadNs", MeasureHarnessOverheadNs(100000));
  return result;
}

}  // namespace model_audit
