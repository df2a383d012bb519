// The JS-facing session: owns a runtime session, runs it off the JS thread, survives close()
// while a run is still in flight.
#pragma once

#include <napi.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../measure/alloc_counters.h"
#include "../measure/denormals.h"
#include "../runtime/runtime.h"
#include "thread_task.h"

namespace model_audit {

struct SessionHolder {
  std::shared_ptr<Runtime> runtime;
  std::unique_ptr<Session> session;
  std::mutex runMutex;  // held around runs of sessions that cannot run concurrently
  int64_t createNs = 0;
  std::atomic<int64_t> runs{0};  // runs started on this session, so a first run can be called cold or not
  // Kept so that the session can be opened again (throughput opens one session per stream).
  std::string kind;
  std::vector<uint8_t> modelBytes;
  SessionOptions options;
  // The runtime library's allocation counters (-1: not counted, `countingError` says why).
  int counterSlot = -1;
  std::string countingError;
  PhaseMemory loadMemory;    // TFLite: building the model from the flatbuffer
  PhaseMemory createMemory;  // the session or interpreter, with its tensors
  std::atomic<int64_t> testLeakBytesPerRun{0};  // test hook: a runtime that leaks on every run
  std::atomic<bool> testLeakInsideRuntime{false};  // ... through the runtime's own allocator, not ours
  std::atomic<int64_t> testDelayNsPerRun{0};    // test hook: a runtime that got slower
  // Test hook: runs left before every run fails, as a runtime that starts failing part-way (-1: off).
  mutable std::atomic<int64_t> testRunsBeforeFailure{-1};
  // How long run() calls on this session have lately taken on a worker (a moving average, ns; 0
  // before the first): whether the JS thread may wait for the next one (ThreadTask::ExpectedNs).
  std::atomic<int64_t> recentRunNs{0};
  // The last kRecentRuns run() times (ns), for a typical time that one slow run does not move.
  static constexpr int kRecentRuns = 8;
  std::array<std::atomic<int64_t>, kRecentRuns> recentRuns{};
  std::atomic<uint32_t> recentRunsNext{0};
  // The fifth shortest of the last eight run() times (0 until eight are known): one or two slow
  // runs in eight leave it where it was; a model that became slower moves it within five runs.
  // Found after each run, on the thread that ran it, not on the JS thread at every call.
  std::atomic<int64_t> typicalRunNs{0};
  // The second shortest of the last eight (0 until eight are known): how soon a run may end, which
  // times a longer call's pre-wake (ThreadTask::EarlyNs). One run far faster than all the others
  // does not become it: it moves at most to the shortest of the rest.
  std::atomic<int64_t> earlyRunNs{0};
  // Whether the typical time of the last run() call was within the bound that kept it for the JS
  // thread (TaskPool::Defers, on the JS thread): the bound is then half as long again.
  std::atomic<bool> keptForJsThread{false};

  // After each run() call: its time, into all four.
  void RecordRun(int64_t ns) {
    const int64_t before = recentRunNs.load(std::memory_order_relaxed);
    // A quarter of each new duration: one slow call does not stop the waiting, a slower model does.
    recentRunNs.store(before == 0 ? ns : before + (ns - before) / 4, std::memory_order_relaxed);
    recentRuns[recentRunsNext.fetch_add(1, std::memory_order_relaxed) % kRecentRuns].store(ns, std::memory_order_relaxed);
    std::array<int64_t, kRecentRuns> last;
    for (int i = 0; i < kRecentRuns; ++i) last[i] = recentRuns[i].load(std::memory_order_relaxed);
    std::nth_element(last.begin(), last.begin() + kRecentRuns / 2, last.end());
    const int64_t shortest = *std::min_element(last.begin(), last.end());
    typicalRunNs.store(shortest == 0 ? 0 : last[kRecentRuns / 2], std::memory_order_relaxed);
    // The four before the fifth shortest are the four shortest, in some order.
    std::nth_element(last.begin(), last.begin() + 1, last.begin() + kRecentRuns / 2);
    earlyRunNs.store(shortest == 0 ? 0 : last[1], std::memory_order_relaxed);
  }

  ~SessionHolder() {
    // The session's frees are counted before counting may stop.
    session.reset();
    ReleaseAllocationCounters(counterSlot);
  }

  std::unique_lock<std::mutex> LockForRun() {
    return session->SupportsConcurrentRuns() ? std::unique_lock<std::mutex>() : std::unique_lock<std::mutex>(runMutex);
  }
  // The same without waiting: whether a run may start now, with the lock it then holds.
  bool TryLockForRun(std::unique_lock<std::mutex>* lock) {
    if (session->SupportsConcurrentRuns()) return true;
    *lock = std::unique_lock<std::mutex>(runMutex, std::try_to_lock);
    return lock->owns_lock();
  }
};

// What every use of a session's runtime holds for its duration: the run lock (for runtimes that
// cannot run concurrently), one count in the session's runs (so a first run can be called cold),
// and, for calls made on this thread, the registration that tells the allocation counters which
// thread is the caller. Released in reverse order, on every path out.
class RunScope {
 public:
  enum class Caller { kThisThread, kNone };
  // held: the run lock, already taken with TryLockForRun (or not needed).
  explicit RunScope(SessionHolder& holder, Caller caller = Caller::kThisThread)
      : RunScope(holder, caller, holder.LockForRun()) {}
  RunScope(SessionHolder& holder, Caller caller, std::unique_lock<std::mutex> held)
      : lock_(std::move(held)),
        firstRun_(holder.runs.fetch_add(1) == 0),
        slot_(caller == Caller::kThisThread ? holder.counterSlot : -1),
        denormals_(caller == Caller::kThisThread && holder.options.denormalAsZero) {
    SetAllocCaller(slot_, true);
  }
  ~RunScope() { SetAllocCaller(slot_, false); }
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;

  // Whether this is the session's first use ever.
  bool firstRun() const { return firstRun_; }

 private:
  std::unique_lock<std::mutex> lock_;
  bool firstRun_;
  int slot_;
  DenormalScope denormals_;  // this thread flushes denormals as the session asks
};

// A run() call's task, whichever feeds it runs on: where it may run (the session's recent and
// typical run times, its JS-thread bound) and the run lock it may claim to run at once.
class SessionRunTask : public ThreadTask {
 public:
  explicit SessionRunTask(std::shared_ptr<SessionHolder> holder) : holder_(std::move(holder)) {}
  int64_t ExpectedNs() const override { return holder_->recentRunNs.load(std::memory_order_relaxed); }
  int64_t TypicalNs() const override { return holder_->typicalRunNs.load(std::memory_order_relaxed); }
  int64_t EarlyNs() const override { return holder_->earlyRunNs.load(std::memory_order_relaxed); }
  int64_t RunHereMaxNs() const override { return holder_->options.jsThreadRunMaxNs; }
  bool KeptForJsThread() const override { return holder_->keptForJsThread.load(std::memory_order_relaxed); }
  void NoteKeptForJsThread(bool kept) override { holder_->keptForJsThread.store(kept, std::memory_order_relaxed); }
  bool ClaimToRunNow() override { return claimed_ = holder_->TryLockForRun(&lock_); }

 protected:
  // Runs the session once on `views` (holding the run lock ClaimToRunNow took, if it did) and
  // records the run's time for where the next calls run.
  std::vector<OutputTensor> RunOnce(const std::vector<TensorView>& views);

  std::shared_ptr<SessionHolder> holder_;

 private:
  bool claimed_ = false;
  std::unique_lock<std::mutex> lock_;  // the run lock ClaimToRunNow took, when the runtime needs one
};

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<SessionHolder> holder);
  explicit SessionWrap(const Napi::CallbackInfo& info);

  // Null once closed.
  std::shared_ptr<SessionHolder> holder() const { return holder_; }
  // Throws ClosedModelError when the session was closed.
  std::shared_ptr<SessionHolder> RequireOpen(Napi::Env env) const;

 private:
  Napi::Value Inputs(const Napi::CallbackInfo& info);
  Napi::Value Outputs(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value RunSync(const Napi::CallbackInfo& info);
  // bind(specs) -> NativeBoundRun (bound_run.h)
  Napi::Value Bind(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value IsClosed(const Napi::CallbackInfo& info);
  Napi::Value CreateNs(const Napi::CallbackInfo& info);
  Napi::Value Benchmark(const Napi::CallbackInfo& info);
  Napi::Value Clone(const Napi::CallbackInfo& info);
  Napi::Value Memory(const Napi::CallbackInfo& info);
  Napi::Value ResetPeak(const Napi::CallbackInfo& info);
  Napi::Value SetTestLeak(const Napi::CallbackInfo& info);
  Napi::Value SetTestDelay(const Napi::CallbackInfo& info);
  // For the tests: what decides where this session's next run() call runs (its typical and moving
  // average run times, and whether its last call was kept for the JS thread).
  Napi::Value RunTimesForTest(const Napi::CallbackInfo& info);
  Napi::Value SetTestFailAfter(const Napi::CallbackInfo& info);
  Napi::Value SetInputGuard(const Napi::CallbackInfo& info);
  Napi::Value EndProfiling(const Napi::CallbackInfo& info);

  std::shared_ptr<SessionHolder> holder_;
};

// Opens a runtime session and records what is needed to open it again.
std::shared_ptr<SessionHolder> OpenHolder(const std::string& kind, const std::string& libraryPath, std::vector<uint8_t> bytes,
                                          const SessionOptions& options);

// openSession(kind, libraryPath, bytes, options) -> Promise<Session>
Napi::Value OpenSession(const Napi::CallbackInfo& info);
Napi::Value OpenSessionSync(const Napi::CallbackInfo& info);
// A prepared run with the session's test hooks applied: it leaks through the library's counted
// malloc and/or spins for a delay after every call. Without hooks, the run itself.
std::unique_ptr<PreparedRun> WithTestLeak(std::unique_ptr<PreparedRun> run, const SessionHolder& holder);

// runtimeInfo(kind, libraryPath) -> { name, version, apiVersion, libraryPath }
Napi::Value RuntimeInfo(const Napi::CallbackInfo& info);

}  // namespace model_audit
