#include "throughput.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "affinity.h"
#include "clock.h"
#include "denormals.h"

namespace model_audit {

namespace {

// All threads (and the coordinator) meet here once, then go at the same moment.
class StartLine {
 public:
  explicit StartLine(int parties) : waiting_(parties) {}
  void ArriveAndWait() {
    waiting_.fetch_sub(1);
    while (waiting_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
  }

 private:
  std::atomic<int> waiting_;
};

void SleepUntil(int64_t targetNs) {
  // Sleep the bulk, then spin the last stretch: the wake-up of a sleep is too coarse to start a
  // request on time.
  constexpr int64_t kSpinNs = 200000;
  int64_t now = NowNs();
  if (targetNs - now > kSpinNs) {
    const int64_t sleepNs = targetNs - now - kSpinNs;
    timespec ts{static_cast<time_t>(sleepNs / 1000000000LL), static_cast<long>(sleepNs % 1000000000LL)};
    nanosleep(&ts, nullptr);
  }
  while (NowNs() < targetNs) {
  }
}

// Runs `iterations` untimed inferences; on failure returns the run whose LastError says why.
PreparedRun* Warm(FeedCycle& feeds, int64_t iterations) {
  for (int64_t i = 0; i < iterations; ++i) {
    uint32_t set = 0;
    PreparedRun* run = feeds.Next(&set);
    if (run == nullptr) return feeds.failed();
    const bool ok = run->Invoke();
    run->ReleaseOutputs();
    if (!ok) return run;
  }
  return nullptr;
}

}  // namespace

ClosedLoopResult RunClosedLoop(const std::vector<FeedCycle*>& streams, const std::vector<int>& cpus, int64_t durationNs,
                               int64_t warmupIterations, int64_t maxSamplesPerStream) {
  const size_t n = streams.size();
  ClosedLoopResult result;
  result.streams.resize(n);
  for (StreamResult& stream : result.streams) stream.samplesNs.assign(static_cast<size_t>(maxSamplesPerStream), 0);
  StartLine line(static_cast<int>(n) + 1);
  std::atomic<int64_t> startNs{0};
  std::vector<int64_t> endNs(n, 0);
  std::vector<int64_t> counts(n, 0);
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t s = 0; s < n; ++s) {
    threads.emplace_back([&, s]() {
      NameCurrentThread("ma-stream");
      StreamResult& stream = result.streams[s];
      if (s < cpus.size() && cpus[s] >= 0) stream.pinError = PinCurrentThread(cpus[s]);
      FeedCycle& feeds = *streams[s];
      DenormalScope denormals(feeds.flushDenormals());
      PreparedRun* warmFailure = Warm(feeds, warmupIterations);
      line.ArriveAndWait();
      if (warmFailure != nullptr) {
        stream.failed = true;
        stream.error = warmFailure->LastError();
        return;
      }
      const int64_t deadline = startNs.load(std::memory_order_acquire) + durationNs;
      CpuTrail trail;
      int64_t* out = stream.samplesNs.data();
      int64_t count = 0;
      int64_t t1 = NowNs();
      while (count < maxSamplesPerStream && t1 < deadline) {
        uint32_t set = 0;
        PreparedRun* run = feeds.Next(&set);  // binds the set's inputs: before the first clock read
        if (run == nullptr) {
          stream.failed = true;
          stream.error = feeds.failed()->LastError();
          break;
        }
        const int64_t t0 = NowNs();
        const bool ok = run->Invoke();
        t1 = NowNs();
        out[count] = t1 - t0;
        run->ReleaseOutputs();
        if (!ok) {
          stream.failed = true;
          stream.error = run->LastError();
          break;
        }
        ++count;
        trail.Observe();
      }
      counts[s] = count;
      endNs[s] = t1;
      stream.cpus = trail.Cpus();
    });
  }
  // The coordinator fixes the start just before releasing everyone.
  startNs.store(NowNs(), std::memory_order_release);
  line.ArriveAndWait();
  for (std::thread& t : threads) t.join();
  const int64_t start = startNs.load();
  int64_t end = start;
  for (size_t s = 0; s < n; ++s) {
    result.streams[s].samplesNs.resize(static_cast<size_t>(counts[s]));
    end = std::max(end, endNs[s]);
  }
  result.wallNs = end - start;
  return result;
}

OpenLoopResult RunOpenLoop(const std::vector<FeedCycle*>& streams, const std::vector<int>& cpus,
                           const std::vector<int64_t>& arrivalsNs, int64_t graceNs, int64_t warmupIterations) {
  const size_t workers = streams.size();
  const size_t requests = arrivalsNs.size();
  OpenLoopResult result;
  result.latencyNs.assign(requests, -1);
  result.serviceNs.assign(requests, -1);
  result.pinErrors.assign(workers, "");
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::atomic<int64_t> completed{0};
  std::vector<Error> errors(workers, Error{ErrorKind::kRuntime, "", ""});
  std::vector<bool> workerFailed(workers, false);
  StartLine line(static_cast<int>(workers) + 1);
  std::atomic<int64_t> startNs{0};
  const int64_t scheduleEnd = requests == 0 ? 0 : arrivalsNs.back();
  std::vector<int64_t> lastEnd(workers, 0);
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&, w]() {
      NameCurrentThread("ma-stream");
      if (w < cpus.size() && cpus[w] >= 0) result.pinErrors[w] = PinCurrentThread(cpus[w]);
      FeedCycle& feeds = *streams[w];
      DenormalScope denormals(feeds.flushDenormals());
      PreparedRun* warmFailure = Warm(feeds, warmupIterations);
      line.ArriveAndWait();
      if (warmFailure != nullptr) {
        workerFailed[w] = true;
        errors[w] = warmFailure->LastError();
        failed.store(true);
        return;
      }
      const int64_t start = startNs.load(std::memory_order_acquire);
      const int64_t giveUp = start + scheduleEnd + graceNs;
      while (!failed.load(std::memory_order_relaxed)) {
        const size_t i = next.fetch_add(1);
        if (i >= requests) break;
        const int64_t arrival = start + arrivalsNs[i];
        if (NowNs() > giveUp) break;
        PreparedRun* run = feeds.Bound(static_cast<uint32_t>(i % feeds.size()));
        if (run == nullptr) {
          workerFailed[w] = true;
          errors[w] = feeds.failed()->LastError();
          failed.store(true);
          break;
        }
        SleepUntil(arrival);
        const int64_t t0 = NowNs();
        const bool ok = run->Invoke();
        const int64_t t1 = NowNs();
        run->ReleaseOutputs();
        if (!ok) {
          workerFailed[w] = true;
          errors[w] = run->LastError();
          failed.store(true);
          break;
        }
        result.latencyNs[i] = t1 - arrival;
        result.serviceNs[i] = t1 - t0;
        lastEnd[w] = t1;
        completed.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // Start slightly in the future so that every worker is waiting for the first arrival.
  startNs.store(NowNs() + 1000000, std::memory_order_release);
  line.ArriveAndWait();
  for (std::thread& t : threads) t.join();
  result.completed = completed.load();
  const int64_t start = startNs.load();
  int64_t end = start;
  for (int64_t e : lastEnd) end = std::max(end, e);
  result.wallNs = end - start;
  for (size_t w = 0; w < workers; ++w) {
    if (workerFailed[w]) {
      result.failed = true;
      result.error = errors[w];
      break;
    }
  }
  return result;
}

}  // namespace model_audit
