#include "thread_task.h"

#include <dlfcn.h>
#include <sched.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../measure/affinity.h"
#include "../measure/clock.h"
#include "addon.h"

namespace model_audit {

// For bench/hand-offs.mjs, which compares hand-offs in one process (this VM's speed drifts more
// between processes than the difference): whether a long call wakes the JS thread ahead of its end,
// and whether a worker spins longer after a long call that was followed at once by the next.
std::atomic<bool> gPrewake{true};
std::atomic<bool> gLongSpin{true};
// And whether the JS thread takes back a short call no worker has started 50 µs into its wait.
std::atomic<bool> gTakeBack{true};
// And whether the alarm thread moves to the CPU the JS thread submitted its call from, and a worker
// about to run a call the JS thread will not wait for steps off that CPU.
std::atomic<bool> gAlarmFollows{true};
std::atomic<bool> gStepOff{true};
// And whether a short call made alone runs on the JS thread where the process has two CPUs
// or more.
std::atomic<bool> gRunHere{true};
// And, when above 0, the typical run time up to which such a call does, for every session (else
// the session's jsThreadRunMaxNs, 250 µs by default).
std::atomic<int64_t> gRunHereMaxNs{0};
// And whether a session whose calls were kept for the JS thread keeps them there up to half as
// long again as its bound, and whether its moving average may be up to twice its typical time
// (TaskPool::Defers); off: neither.
std::atomic<bool> gStayHere{true};
// And whether a pre-woken JS thread whose wait ended before its call waits for it again after a
// turn of the event loop.
std::atomic<bool> gRewait{true};
// And whether the pre-wake is timed by the session's recent runs (below) rather than its moving average.
std::atomic<bool> gPrewakeTypical{true};
// And whether it is timed by the early end of the session's runs (ThreadTask::EarlyNs) rather
// than their typical time.
std::atomic<bool> gPrewakeEarly{true};
// For the tests: how much longer than the kernel's a worker's wake-up from sleep is made to take,
// and how long a worker holds each call after its run (not counted in the session's run times).
std::atomic<int64_t> gWorkerWakeDelayNs{0};
std::atomic<int64_t> gWorkerHoldNs{0};

// libuv's count of event-loop iterations, from uv_metrics_info (libuv 1.45 and later), looked up
// when first needed: on a Node with an older libuv the addon must still load. libuv's header
// is not among those the addon is built with (Node-API's only), so the one struct it fills is
// declared here as libuv's ABI lays it out: three counters, then reserved words.
struct UvLoopMetrics {
  uint64_t loopCount;
  uint64_t events;
  uint64_t eventsWaiting;
  uint64_t* reserved[13];
};
using UvMetricsInfo = int (*)(uv_loop_s*, UvLoopMetrics*);

UvMetricsInfo LoopMetricsFunction() {
  static const UvMetricsInfo fn = reinterpret_cast<UvMetricsInfo>(dlsym(RTLD_DEFAULT, "uv_metrics_info"));
  return fn;
}

struct ThreadTask::Pending {
  std::unique_ptr<ThreadTask> task;
  Napi::Promise::Deferred deferred;
  bool failed = false;
  Error error{ErrorKind::kRuntime, "", ""};
  int64_t expectedNs = 0;
  // ThreadTask::TypicalNs: whether a call may run on the JS thread.
  int64_t typicalNs = 0;
  int64_t earlyNs = 0;  // ThreadTask::EarlyNs: when a longer call's pre-wake is due
  int64_t runHereMaxNs = 0;  // ThreadTask::RunHereMaxNs
  bool keptBefore = false;   // ThreadTask::KeptForJsThread
  // When the JS thread is to wake for this call, ahead of its expected end (0: not at all).
  int64_t prewakeAtNs = 0;
  int rewaits = 0;  // how often the JS thread has waited for it again (OnPrewake)
  // For a call the JS thread will not wait for: the CPU it was submitted from (-1: not recorded).
  int jsCpu = -1;
  // Who settles a pool call: the worker posts it to the JS thread unless the JS thread was waiting
  // for it when it finished (kJsWaiting), in which case the JS thread settles it itself.
  enum State : int { kRunning = 0, kJsWaiting = 1, kDone = 2 };
  std::atomic<int> state{kRunning};
};

namespace {

void SettleOnJsThread(Napi::Env env, Napi::Function, TaskPool* pool, ThreadTask::Pending* done);
using SettleFunction = Napi::TypedThreadSafeFunction<TaskPool, ThreadTask::Pending, SettleOnJsThread>;
void SettleDedicated(Napi::Env env, Napi::Function, std::nullptr_t*, ThreadTask::Pending* done);
using DedicatedSettle = Napi::TypedThreadSafeFunction<std::nullptr_t, ThreadTask::Pending, SettleDedicated>;

// Runs the task, turning anything it throws into the error its promise rejects with.
void RunPending(ThreadTask::Pending* pending) {
  try {
    pending->task->Execute();
  } catch (...) {
    pending->failed = true;
    pending->error = CaughtError();
  }
}

void Settle(Napi::Env env, ThreadTask::Pending* done) {
  std::unique_ptr<ThreadTask::Pending> owned(done);
  if (env == nullptr) return;  // the environment is shutting down
  Napi::HandleScope scope(env);
  if (done->failed) {
    done->deferred.Reject(MakeJsError(env, done->error));
    return;
  }
  try {
    done->deferred.Resolve(Guard(env, [&]() { return done->task->Result(env); }));
  } catch (const Napi::Error& e) {
    done->deferred.Reject(e.Value());
  }
}

void SettleDedicated(Napi::Env env, Napi::Function, std::nullptr_t*, ThreadTask::Pending* done) { Settle(env, done); }

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

class TaskPool {
 public:
  // A worker that has just finished waits this long, spinning, for the next call before it sleeps:
  // a caller that awaits one run and starts the next finds it awake.
  static constexpr int64_t kSpinNs = 50'000;
  // After a longer call that followed the one before it within kFollowedNs, the spin is a quarter
  // of that call's time, up to kMaxSpinNs: a caller awaiting long runs one after another makes its
  // next call 100–200 µs after the last ended, and the worker's own wake-up would add 50 µs or more
  // to each. The spin costs at most a quarter of the CPU time of the calls it follows, and only
  // while calls keep coming that close together.
  static constexpr int64_t kMaxSpinNs = 250'000;
  static constexpr int64_t kFollowedNs = 500'000;
  // The longest the JS thread waits for short calls, in one SettleShortCalls: calls expected to
  // take longer are waited for only after a pre-wake (below), and then as long at most. (How often
  // it may wait is the JS side's: lib/model/model.ts.)
  static constexpr int64_t kMaxJsWaitNs = 250'000;
  // A longer call made with no other outstanding wakes the JS thread this long before it may end
  // (Submit: the second shortest of its session's last eight runs), and the JS thread then waits
  // for it as for a short call: the wake-up of a thread asleep in the event loop overlaps the end
  // of the run instead of following it. Calls expected to take more than kMaxPrewakeCallNs are
  // left alone: the wake-up is under 2 % of them, and their times spread wider than the window the
  // JS thread waits in (a 6–9 ms TFLite model ended inside it on one call in five: bench/README.md
  // section 11).
  static constexpr int64_t kPrewakeLeadNs = 150'000;
  static constexpr int64_t kMaxPrewakeCallNs = 4'000'000;
  // A call still running when the pre-woken JS thread's wait for it ends is waited for again, as
  // long at most, after one turn of the event loop, up to this many times (OnPrewake).
  static constexpr int kMaxRewaits = 3;
  // A short call no worker has started this long into the JS thread's wait for it is taken back
  // and run on the JS thread, if it is expected to end within the wait (TakeBack); from a wait
  // shorter than that plus the call's expected time, as late as it still ends within it (WaitFor).
  static constexpr int64_t kTakeBackAfterNs = 50'000;
  // How long calls may be settled at once, one after another, before the event loop must turn.
  static constexpr int64_t kMaxNsBetweenTurns = 1'000'000;
  static constexpr int64_t kTakeBackMarginNs = 5'000;

  explicit TaskPool(Napi::Env env)
      : maxWorkers_(std::max(4u, 2 * std::max(1u, std::thread::hardware_concurrency()))), jsCanSpin_(CanSpin()) {
    settle_ = SettleFunction::New(env, "model-audit-run", 0, 1, this);
    settle_.Unref(env);
    if (napi_get_uv_event_loop(env, &loop_) != napi_ok) loop_ = nullptr;
    lastLoopCount_ = LoopCount();
  }

  // On the JS thread, before each run() call (Submit with settledSoon): whether the calls that
  // finish at once are held, to be settled from an immediate (SettleHeld) after the event loop has
  // turned, instead of at once. They are once kMaxNsBetweenTurns has passed since the first call
  // made after the loop last turned: a loop of awaited runs, each settled at once, would otherwise
  // keep timers and I/O waiting for as long as it goes on, and settled from an immediate, the JS
  // thread is not put to sleep and woken for them (bench/README.md section 11: this took run()'s
  // p99 from up to 21 µs above onnxruntime-node's to at most 3.6 µs). The loop's turns are read
  // from libuv's count of its iterations: marking them with an unref'd immediate and reading
  // performance.now() from JavaScript cost 27–29 µs of a call made from idle (80 ms after the
  // last), from cold caches (section 11). Where the count cannot be had, no turn is seen but the
  // one SettleHeld's immediate makes, and calls are held more often, never less.
  bool BeforeRun() {
    const uint64_t count = LoopCount();
    if (count != lastLoopCount_) {
      lastLoopCount_ = count;
      turnStartNs_ = 0;
    }
    const int64_t now = NowNs();
    if (turnStartNs_ == 0) turnStartNs_ = now;
    if (now - turnStartNs_ > kMaxNsBetweenTurns) holding_ = true;
    return holding_;
  }

  // On the JS thread: whether a call is run right here instead. Where this process has one CPU,
  // a worker can only run while the JS thread sleeps, and the two hand-offs cost more than a short
  // model; so a call expected to take at most kMaxJsWaitNs (the bound the JS thread waits on two
  // CPUs) runs on the JS thread when no other call is outstanding (a TFLite session's calls are
  // serialised: one in flight would block the JS thread) and the task can start at once (a
  // benchmark of the same TFLite model holds its run lock: ThreadTask::ClaimToRunNow).
  bool RunsHere(const ThreadTask::Pending* pending) const {
    return !jsCanSpin_ && outstanding_ == static_cast<int>(held_.size()) && pending->expectedNs > 0 &&
           pending->expectedNs <= kMaxJsWaitNs;
  }

  // On the JS thread: whether a call is kept until the JS side's wait for short calls, which
  // decides where it runs (Dispatch), instead of being queued for a worker now. The typical time
  // decides, not the moving average alone: a model of 30 µs whose average one slow run had lifted
  // over a bound of 50 µs sent its next calls to a worker asleep since the last (all the others
  // ran here), where they took long enough to keep the average up: 5 % of its calls, each 50 µs or
  // more slower (bench/README.md section 11). The moving average must be within the JS thread's
  // wait too (or twice the typical time, below): a run far slower than typical (denormal inputs,
  // 25 times: section 4) lifts it over at once, so the JS thread is held by one such run, not by
  // the four more the typical time takes to follow; the next go to the workers until the runs are
  // short again. A session opened
  // with a bound of its own (jsThreadRunMaxMs) has its calls kept to it, the moving average too
  // where the bound is longer than the wait: a model of about 1 ms called once per audio frame
  // then runs as onnxruntime-node runs it, on the JS thread, without waking the worker's idle
  // CPU first (bench/README.md section 11). The default bound, 250 µs (lib/model/options.ts): with
  // a bound of 50 µs a worker ran melspectrogram's calls (70–120 µs) while the JS thread spun;
  // against that, in one process, the .tflite file's p99 is 74–105 µs lower and CPU per call
  // 36–43 % less for both files, at 10–13 µs more at p50 for the .onnx file (section 11).
  //
  // Once a session's calls are kept, they stay while the typical time is within half as long
  // again as the bound; and the moving average may be up to twice the typical time where that is
  // longer than the bound and the wait. Without either, a model whose runs hover about the bound
  // (melspectrogram.tflite, 170–240 µs at p50 on this project's VM) had 1–6 % of its calls sent
  // to a worker asleep since its last call, by a typical time over the bound for a while or by
  // one run two or three times typical lifting the average over it, and in one process its p99
  // was 12–123 µs higher (bench/README.md section 11). A run more than five times typical still
  // sends the next call to the workers, and a typical time past the longer bound the calls after
  // it, until it is back within the bound. Returns whether the call is kept, and notes for the
  // session whether its typical time was within the bound (a call sent away by its moving average
  // alone keeps the longer one).
  bool Defers(const ThreadTask::Pending* pending) const {
    const int64_t tunedNs = gRunHereMaxNs.load(std::memory_order_relaxed);
    const int64_t boundNs = tunedNs > 0 ? tunedNs : pending->runHereMaxNs;
    if (!jsCanSpin_ || !gRunHere.load(std::memory_order_relaxed) || pending->typicalNs <= 0) return false;
    const bool stay = gStayHere.load(std::memory_order_relaxed);
    const int64_t typicalBoundNs = stay && pending->keptBefore ? boundNs + boundNs / 2 : boundNs;
    const bool typicalWithin = pending->typicalNs <= typicalBoundNs;
    pending->task->NoteKeptForJsThread(typicalWithin);
    const int64_t averageBoundNs =
        stay ? std::max({boundNs, kMaxJsWaitNs, 2 * pending->typicalNs}) : std::max(boundNs, kMaxJsWaitNs);
    return typicalWithin && pending->expectedNs <= averageBoundNs;
  }
  void Defer(ThreadTask::Pending* pending) { deferred_.push_back(pending); }

  // On the JS thread: keeps a call that finished here for SettleHeld.
  void Hold(Napi::Env env, ThreadTask::Pending* done) {
    Outstanding(env);
    held_.push_back(done);
  }

  // On the JS thread.
  void Submit(Napi::Env env, ThreadTask::Pending* pending) {
    const bool alone = outstanding_ == 0;
    Outstanding(env);
    // Listed before the worker can see it; a call that finishes first is simply posted.
    const bool waitable = jsCanSpin_ && pending->expectedNs > 0 && pending->expectedNs <= kMaxJsWaitNs;
    if (waitable) waitable_.push_back(pending);
    if (jsCanSpin_ && pending->expectedNs > kMaxJsWaitNs) pending->jsCpu = CurrentCpu();
    const bool prewake = gPrewake.load(std::memory_order_relaxed) && alone && jsCanSpin_ &&
                         pending->expectedNs > kMaxJsWaitNs && pending->expectedNs <= kMaxPrewakeCallNs;
    // Timed by the session's recent runs, once eight are known: one run slowed by milliseconds (the
    // worker's CPU taken by another thread) lifts the moving average by a quarter of that, and the
    // pre-wakes of the next several calls came after their end. By the second shortest of the
    // last eight, not the typical (fifth shortest): where run times spread (embedding_model.onnx
    // 1.4–2.0 ms from one call to the next on this project's VM), the runs faster than typical
    // ended before the JS thread woke, and half the calls waited for its wake-up from sleep
    // (bench/README.md section 11). The JS thread waits longer for the others, a turn of the event
    // loop every 250 µs at most.
    const bool byRecent = pending->typicalNs > 0 && gPrewakeTypical.load(std::memory_order_relaxed);
    const bool byEarly = byRecent && pending->earlyNs > 0 && gPrewakeEarly.load(std::memory_order_relaxed);
    const int64_t runNs = byEarly ? pending->earlyNs : byRecent ? pending->typicalNs : pending->expectedNs;
    const int64_t prewakeAtNs = prewake ? NowNs() + runNs - kPrewakeLeadNs : 0;
    std::unique_lock<std::mutex> lock(mutex_);
    queue_.push_back(pending);
    queued_.store(queue_.size(), std::memory_order_release);
    // A worker is started only when more calls wait than there are workers not running one: a
    // worker that has just finished is counted free before its result reaches the JS thread, so
    // that sequential calls never start a second one.
    bool started = false;
    if (queue_.size() > workers_.size() - busy_ && workers_.size() < maxWorkers_) {
      try {
        workers_.emplace_back([this]() { Work(); });
        NameThread(workers_.back(), "ma-worker");
        started = true;
      } catch (const std::system_error&) {
        if (workers_.empty()) {
          queue_.pop_back();
          queued_.store(queue_.size(), std::memory_order_release);
          lock.unlock();
          if (waitable) waitable_.pop_back();
          NoLongerOutstanding(env);
          throw AuditException(ErrorKind::kRuntime, "cannot start a worker thread");
        }
      }
    }
    lock.unlock();
    if (!started) wake_.notify_one();
    // The pre-wake's alarm is set once a worker can have the call: waking the alarm thread, which
    // sleeps on this CPU, took the CPU from this thread for a while, and the call's start waited
    // for it (12 µs at the median on embedding_model.onnx, against 1.6 µs with no pre-wake:
    // bench/README.md section 11). Results are settled on this thread, after this returns, so
    // the call is listed before it can be settled.
    if (prewake) Prewake(pending, prewakeAtNs);
  }

  // On the JS thread, as each result arrives from the event loop.
  void Settled(Napi::Env env, ThreadTask::Pending* done) {
    ++paths_.posted;
    if (!waitable_.empty()) waitable_.erase(std::remove(waitable_.begin(), waitable_.end(), done), waitable_.end());
    if (!prewake_.empty()) {
      prewake_.erase(std::remove(prewake_.begin(), prewake_.end(), done), prewake_.end());
      SetAlarm();
    }
    if (!rewait_.empty()) rewait_.erase(std::remove(rewait_.begin(), rewait_.end(), done), rewait_.end());
    NoLongerOutstanding(env);
  }

  // On the JS thread: the bounded wait for the short calls listed since the last one. While
  // holding (BeforeRun), those that finished are kept for SettleHeld instead of settled now, so
  // that the JS side can give the event loop its turn first instead of being woken for them
  // (bench/README.md section 11). Returns how many calls are held (0: none, and holding stops).
  int SettleShort(Napi::Env env) {
    const bool hold = holding_;
    if (!deferred_.empty()) Dispatch(env, hold);
    std::vector<ThreadTask::Pending*> listed;
    listed.swap(waitable_);
    for (ThreadTask::Pending* p : WaitFor(listed, true)) {
      if (hold) {
        held_.push_back(p);
        continue;
      }
      NoLongerOutstanding(env);
      Settle(env, p);
    }
    if (held_.empty()) holding_ = false;
    return static_cast<int>(held_.size());
  }

  // On the JS thread, at the start of the wait for short calls: the short calls made since the
  // last one. One made alone (nothing else outstanding, no other in this turn) runs here, now: the
  // JS thread would otherwise spend the same time waiting for it, and the hand-off to a worker and
  // back costs more than 10 % of a call of 50 µs, and for longer ones exposes the call to both
  // CPUs (bench/README.md section 11). Its typical time and moving average are within the JS
  // thread's wait, so a run 25 times slower than that (denormal inputs, section 4) holds the JS
  // thread for up to 6 ms, once (Defers). Several made in one turn (Promise.all) go to the
  // workers, to run side by side, and are waited for.
  void Dispatch(Napi::Env env, bool hold) {
    std::vector<ThreadTask::Pending*> calls;
    calls.swap(deferred_);
    if (calls.size() == 1 && outstanding_ == static_cast<int>(held_.size()) && calls[0]->task->ClaimToRunNow()) {
      ThreadTask::Pending* p = calls[0];
      ++paths_.ranHere;
      RunPending(p);
      if (hold) {
        Hold(env, p);
      } else {
        Settle(env, p);
      }
      return;
    }
    for (ThreadTask::Pending* p : calls) {
      try {
        Submit(env, p);
      } catch (const AuditException& e) {
        p->deferred.Reject(MakeJsError(env, e.error()));
        delete p;
      }
    }
  }

  // On the JS thread, from an immediate: settles the calls the last waits held. The event loop has
  // turned: the next call starts the count towards holding again.
  int SettleHeld(Napi::Env env) {
    holding_ = false;
    turnStartNs_ = 0;
    lastLoopCount_ = LoopCount();
    std::vector<ThreadTask::Pending*> held;
    held.swap(held_);
    paths_.held += static_cast<int64_t>(held.size());
    for (ThreadTask::Pending* p : held) {
      NoLongerOutstanding(env);
      Settle(env, p);
    }
    return static_cast<int>(held.size());
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_.load(std::memory_order_relaxed)) return;
      stopping_.store(true, std::memory_order_relaxed);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
    {
      std::lock_guard<std::mutex> lock(alarmMutex_);
      alarmStop_ = true;
    }
    alarmWake_.notify_one();
    if (alarm_.joinable()) alarm_.join();
    prewake_.clear();
    rewait_.clear();
    for (ThreadTask::Pending* p : held_) Settle(nullptr, p);  // the environment is ending
    held_.clear();
    for (ThreadTask::Pending* p : deferred_) Settle(nullptr, p);
    deferred_.clear();
    settle_.Release();
  }

  ~TaskPool() { Stop(); }

  // On the JS thread, from the event loop, when the alarm thread posts a pre-wake (or this thread
  // posted one to wait again): waits for the calls due (at most kMaxJsWaitNs) and settles those
  // that finished. One still running is waited for again after the event loop has had its turn, up
  // to kMaxRewaits times, and is otherwise posted as usual: a call that outlasts the wait (its run
  // slower than expected, or the alarm late) would else have its result wait for the JS thread's
  // wake-up from sleep, 80–100 µs on this project's VM. The JS thread does not sleep in between
  // (the post is pending), and holds the event loop for no longer at a time than in the first
  // wait. On embedding_model.onnx as it comes, under 1 % of calls were waited for again; where the
  // test hook held half the calls 300–500 µs past their run, those were settled 49–87 µs sooner
  // (p50–p90), for 23–132 µs more CPU per call, spent spinning (bench/README.md section 11).
  void OnPrewake(Napi::Env env) {
    std::vector<ThreadTask::Pending*> due;
    due.swap(rewait_);
    std::vector<ThreadTask::Pending*> later;
    const int64_t now = NowNs();
    for (ThreadTask::Pending* p : prewake_) (p->prewakeAtNs <= now + 20'000 ? due : later).push_back(p);
    prewake_.swap(later);
    SetAlarm();
    const std::vector<ThreadTask::Pending*> finished = WaitFor(due, false);
    if (gRewait.load(std::memory_order_relaxed)) {
      for (ThreadTask::Pending* p : due) {
        if (p->rewaits >= kMaxRewaits || std::find(finished.begin(), finished.end(), p) != finished.end() ||
            p->state.load(std::memory_order_acquire) == ThreadTask::Pending::kDone) {
          continue;  // settled below, or posted by its worker
        }
        ++p->rewaits;
        rewait_.push_back(p);
      }
      if (!rewait_.empty() && settle_.NonBlockingCall(nullptr) != napi_ok) rewait_.clear();
    }
    for (ThreadTask::Pending* p : finished) {
      ++paths_.prewoken;
      if (p->rewaits > 0) ++paths_.rewaited;
      NoLongerOutstanding(env);
      Settle(env, p);
    }
  }

  // On the JS thread: how the calls of this environment were settled, for the tests.
  struct Paths {
    int64_t ranHere = 0;   // run on the JS thread (one CPU, or a short call made alone)
    int64_t waited = 0;    // waited for briefly (run by a worker) and settled by the JS thread
    int64_t takenBack = 0;  // taken back from the queue by the waiting JS thread and run there
    int64_t prewoken = 0;  // woken for ahead of their end, waited for and settled by the JS thread
    int64_t rewaited = 0;  // of those, settled in a wait after the first (OnPrewake)
    int64_t posted = 0;    // settled from the event loop after their worker posted them
    int64_t held = 0;      // of all those, kept to be settled from an immediate (BeforeRun)
  };
  const Paths& paths() const { return paths_; }
  int64_t steppedOff() const { return steppedOff_.load(std::memory_order_relaxed); }
  void CountRanHere() { ++paths_.ranHere; }

 private:
  // On the JS thread: a call is outstanding from its submission until it is settled; the
  // thread-safe function holds the event loop open only while one is.
  void Outstanding(Napi::Env env) {
    if (outstanding_++ == 0) settle_.Ref(env);
  }
  void NoLongerOutstanding(Napi::Env env) {
    if (--outstanding_ == 0 && env != nullptr) settle_.Unref(env);
  }

  // On the JS thread: the bounded wait. Claims the calls still running (one that already finished
  // was posted by its worker, and the post settles it), spins until all of them finish or the wait
  // ends, and returns those that finished meanwhile, which their workers left to the JS thread; the
  // others go back to being posted when they finish. The wait is kMaxJsWaitNs, or, byExpected,
  // 4 × the longest expected time of the calls claimed + 20 µs if that is less.
  std::vector<ThreadTask::Pending*> WaitFor(const std::vector<ThreadTask::Pending*>& calls, bool byExpected) {
    std::vector<ThreadTask::Pending*> waiting;
    int64_t budget = byExpected ? 0 : kMaxJsWaitNs;
    for (ThreadTask::Pending* p : calls) {
      int expected = ThreadTask::Pending::kRunning;
      if (p->state.compare_exchange_strong(expected, ThreadTask::Pending::kJsWaiting, std::memory_order_acq_rel)) {
        waiting.push_back(p);
        if (byExpected) budget = std::max(budget, 4 * p->expectedNs + 20'000);
      }
    }
    std::vector<ThreadTask::Pending*> finished;
    if (waiting.empty()) return finished;
    const int64_t start = NowNs();
    const int64_t until = start + std::min(budget, kMaxJsWaitNs);
    bool mayTakeBack = byExpected && gTakeBack.load(std::memory_order_relaxed);
    // kTakeBackAfterNs into the wait, or, where the wait is shorter than that plus the longest call
    // expected and a margin for the check (calls expected to take under 12 µs), as late as that
    // call still ends within it: else such a call was never taken back, and waited for a worker
    // to wake.
    int64_t longestNs = 0;
    for (ThreadTask::Pending* p : waiting) longestNs = std::max(longestNs, p->expectedNs);
    const int64_t takeBackAfterNs = std::clamp(until - start - longestNs - kTakeBackMarginNs, int64_t{0}, kTakeBackAfterNs);
    int takenBack = 0;
    auto allDone = [&]() {
      for (ThreadTask::Pending* p : waiting) {
        if (p->state.load(std::memory_order_acquire) != ThreadTask::Pending::kDone) return false;
      }
      return true;
    };
    for (int64_t now = start; !allDone() && now < until; now = NowNs()) {
      if (mayTakeBack && now - start >= takeBackAfterNs) {
        mayTakeBack = false;
        for (ThreadTask::Pending* p : waiting) {
          if (NowNs() + p->expectedNs <= until && TakeBack(p)) ++takenBack;
        }
        continue;
      }
      CpuRelax();
    }
    for (ThreadTask::Pending* p : waiting) {
      int expected = ThreadTask::Pending::kJsWaiting;
      if (p->state.compare_exchange_strong(expected, ThreadTask::Pending::kRunning, std::memory_order_acq_rel)) continue;
      finished.push_back(p);
    }
    paths_.takenBack += takenBack;
    if (byExpected) paths_.waited += static_cast<int64_t>(finished.size()) - takenBack;
    return finished;
  }

  // On the JS thread, kTakeBackAfterNs into its wait for short calls: a call still queued when no
  // worker is spinning for calls found every worker asleep or busy, and waking one on this VM took
  // 48 µs at the median and over 250 µs one time in ten (bench/README.md section 11), past the end
  // of the wait. The JS thread, which was to spend that time waiting, runs it itself instead. Not
  // at once: a call run on the JS thread finds the caches of the worker's CPU on the other, and a
  // take-back leaves the worker asleep for the next call.
  bool TakeBack(ThreadTask::Pending* p) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (spinning_.load(std::memory_order_acquire) > 0) return false;
      auto it = std::find(queue_.begin(), queue_.end(), p);
      if (it == queue_.end() || !p->task->ClaimToRunNow()) return false;
      queue_.erase(it);
      queued_.store(queue_.size(), std::memory_order_release);
    }
    RunPending(p);
    p->state.store(ThreadTask::Pending::kDone, std::memory_order_release);
    return true;
  }

  // On the JS thread: lists the call for a pre-wake at atNs (the alarm thread is started on first
  // use; where it cannot be, calls are simply posted as before).
  void Prewake(ThreadTask::Pending* pending, int64_t atNs) {
    if (!alarm_.joinable()) {
      if (alarmUnavailable_) return;
      try {
        alarm_ = std::thread([this]() { Alarm(); });
        NameThread(alarm_, "ma-alarm");
      } catch (const std::system_error&) {
        alarmUnavailable_ = true;
        return;
      }
    }
    pending->prewakeAtNs = atNs;
    prewake_.push_back(pending);
    if (gAlarmFollows.load(std::memory_order_relaxed)) alarmCpu_.store(pending->jsCpu, std::memory_order_relaxed);
    SetAlarm();
  }

  // On the JS thread: the alarm at the earliest pre-wake listed, or none.
  void SetAlarm() {
    int64_t earliest = 0;
    for (ThreadTask::Pending* p : prewake_) earliest = earliest == 0 ? p->prewakeAtNs : std::min(earliest, p->prewakeAtNs);
    {
      std::lock_guard<std::mutex> lock(alarmMutex_);
      if (alarmAtNs_ == earliest) return;
      alarmAtNs_ = earliest;
    }
    alarmWake_.notify_one();
  }

  // The alarm thread: sleeps until the alarm, then posts a pre-wake to the JS thread. Its timer
  // slack is made 1 ns so that the kernel does not defer it by the default 50 µs. Its wake-ups
  // still come late (62–116 µs on this project's VM, 10th–90th percentile), so the JS thread is
  // woken about 70 µs before the early end it was set by, not 150. Waking early by the lateness
  // learnt from the last wake-ups caught 1–3 % more calls but cost the JS thread 60–79 µs more
  // spinning per call for no gain in latency (bench/README.md section 11), so it is not done. It sleeps on
  // the CPU the JS thread submitted the call from, which is where that thread then sleeps and is
  // woken: left to the scheduler, it fared about as badly as when held to the CPU the worker runs
  // the call on, where it waits behind the run it was to wake the JS thread ahead of
  // (bench/README.md section 11).
  void Alarm() {
#ifdef __linux__
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif
    int onCpu = -1;
    std::unique_lock<std::mutex> lock(alarmMutex_);
    while (!alarmStop_) {
      if (alarmAtNs_ == 0) {
        alarmWake_.wait(lock);
        continue;
      }
      const int cpu = alarmCpu_.load(std::memory_order_relaxed);
      if (cpu >= 0 && cpu != onCpu && gAlarmFollows.load(std::memory_order_relaxed)) {
        PinCurrentThread(cpu);  // where it cannot be, the alarm sleeps where it is, as before
        onCpu = cpu;
      }
      const int64_t left = alarmAtNs_ - NowNs();  // NowNs reads CLOCK_MONOTONIC_RAW: waited for as a duration
      if (left > 0) {
        alarmWake_.wait_for(lock, std::chrono::nanoseconds(left));
        continue;
      }
      alarmAtNs_ = 0;
      lock.unlock();
      settle_.NonBlockingCall(nullptr);
      lock.lock();
    }
  }

  // On a worker about to run a call the JS thread will sleep through: moves the worker off the CPU
  // the JS thread submitted it from, when another is allowed. A worker spinning for calls between
  // a JS thread's runs can come to share its CPU (one of them always sleeping, so the kernel sees no
  // reason to part them); the JS thread, and the alarm that wakes it, then wait, runnable, behind
  // the run they were to overlap, while another CPU idles (bench/README.md section 11). The
  // worker's own CPU set is put back at once: the kernel moves a running thread off a CPU its new
  // set leaves out before the call returns, and the worker stays where it was moved.
  static bool StepOff(int cpu) {
    cpu_set_t mine;
    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof(mine), &mine) != 0 || !CPU_ISSET(cpu, &mine) || CPU_COUNT(&mine) < 2) return false;
    cpu_set_t others = mine;
    CPU_CLR(cpu, &others);
    if (sched_setaffinity(0, sizeof(others), &others) != 0) return false;
    sched_setaffinity(0, sizeof(mine), &mine);
    return true;
  }

  // Whether this thread may run on more than one CPU: spinning on the only CPU there is would take
  // it from the JS thread that has to run before the next call can come.
  static bool CanSpin() {
    cpu_set_t set;
    CPU_ZERO(&set);
    return sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 1;
  }

  // Waits for the next call: spinning for spinNs first (the wake-up of a sleeping thread costs
  // more than most models), then asleep.
  ThreadTask::Pending* Next(int64_t spinNs) {
    if (spinNs > 0) {
      spinning_.fetch_add(1, std::memory_order_acq_rel);
      const int64_t until = NowNs() + spinNs;
      while (queued_.load(std::memory_order_acquire) == 0 && !stopping_.load(std::memory_order_relaxed) && NowNs() < until) CpuRelax();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (spinNs > 0) spinning_.fetch_sub(1, std::memory_order_acq_rel);
    for (;;) {
      bool slept = false;
      while (!stopping_.load(std::memory_order_relaxed) && queue_.empty()) {
        slept = true;
        wake_.wait(lock);
      }
      if (queue_.empty()) return nullptr;  // stopping
      const int64_t delayNs = gWorkerWakeDelayNs.load(std::memory_order_relaxed);
      if (!slept || delayNs == 0 || stopping_.load(std::memory_order_relaxed)) break;
      // The test hook: a wake-up slow enough that the JS thread's wait always outlasts it.
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::nanoseconds(delayNs));
      lock.lock();
      if (!queue_.empty()) break;  // else the JS thread took it back: asleep again
    }
    ThreadTask::Pending* next = queue_.front();
    queue_.pop_front();
    ++busy_;
    queued_.store(queue_.size(), std::memory_order_release);
    return next;
  }

  void Work() {
    const bool canSpin = CanSpin();
    int64_t spinNs = canSpin ? kSpinNs : 0;
    int64_t finishedNs = 0;
    while (ThreadTask::Pending* pending = Next(spinNs)) {
      const int64_t startNs = NowNs();
      // Whether this call came close on the heels of the last: a caller awaiting one run after
      // another (for a long run, the result reaches its JS thread, which then makes the next call,
      // in more than the short spin: bench/README.md section 11).
      const bool followed = finishedNs > 0 && startNs - finishedNs <= kFollowedNs;
      if (pending->jsCpu >= 0 && gStepOff.load(std::memory_order_relaxed) && CurrentCpu() == pending->jsCpu &&
          StepOff(pending->jsCpu)) {
        steppedOff_.fetch_add(1, std::memory_order_relaxed);
      }
      RunPending(pending);
      if (const int64_t holdNs = gWorkerHoldNs.load(std::memory_order_relaxed); holdNs > 0) {
        const int64_t until = NowNs() + holdNs;  // the test hook: a call that outlasts its expected time
        while (NowNs() < until) CpuRelax();
      }
      finishedNs = NowNs();
      spinNs = !canSpin ? 0
               : followed && gLongSpin.load(std::memory_order_relaxed) ? std::clamp((finishedNs - startNs) / 4, kSpinNs, kMaxSpinNs)
                                                                       : kSpinNs;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        --busy_;
      }
      // The JS thread waiting for it settles it itself; else it is posted.
      if (pending->state.exchange(ThreadTask::Pending::kDone, std::memory_order_acq_rel) == ThreadTask::Pending::kJsWaiting) continue;
      if (settle_.NonBlockingCall(pending) != napi_ok) delete pending;  // the environment is gone
    }
  }

  uint64_t LoopCount() const {
    const UvMetricsInfo metrics = LoopMetricsFunction();
    UvLoopMetrics m{};
    return loop_ != nullptr && metrics != nullptr && metrics(loop_, &m) == 0 ? m.loopCount : 0;
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<ThreadTask::Pending*> queue_;
  std::atomic<size_t> queued_{0};
  // Workers spinning for the next call; dropped only under the mutex, so a call the JS thread
  // sees queued while none spins is one no worker is about to take.
  std::atomic<int> spinning_{0};
  std::vector<std::thread> workers_;
  const size_t maxWorkers_;
  size_t busy_ = 0;  // workers running a call
  // Set under the mutex; read without it only by a spinning worker, which then takes the mutex.
  std::atomic<bool> stopping_{false};
  int outstanding_ = 0;  // JS thread only
  std::vector<ThreadTask::Pending*> waitable_;  // JS thread only: short calls not yet waited for
  std::vector<ThreadTask::Pending*> held_;  // JS thread only: finished calls kept for SettleHeld
  const bool jsCanSpin_;  // the JS thread may run on more than one CPU
  std::vector<ThreadTask::Pending*> deferred_;  // JS thread only: short calls kept to be dispatched
  std::vector<ThreadTask::Pending*> prewake_;  // JS thread only: longer calls the JS thread will wake for
  std::vector<ThreadTask::Pending*> rewait_;  // JS thread only: pre-woken calls to be waited for again
  std::thread alarm_;
  std::atomic<int> alarmCpu_{-1};  // the CPU the JS thread last listed a pre-wake from
  std::atomic<int64_t> steppedOff_{0};  // calls before which a worker stepped off the JS thread's CPU
  bool alarmUnavailable_ = false;  // JS thread only
  std::mutex alarmMutex_;
  std::condition_variable alarmWake_;
  int64_t alarmAtNs_ = 0;  // under alarmMutex_: when to post the next pre-wake (0: none)
  bool alarmStop_ = false;  // under alarmMutex_
  Paths paths_;  // JS thread only
  SettleFunction settle_;
  uv_loop_s* loop_ = nullptr;  // this environment's event loop
  // JS thread only (BeforeRun): the loop's iteration count at the last call, when the first call
  // since the loop last turned was made (0: none yet), and whether calls are being held.
  uint64_t lastLoopCount_ = 0;
  int64_t turnStartNs_ = 0;
  bool holding_ = false;
};

namespace {

void SettleOnJsThread(Napi::Env env, Napi::Function, TaskPool* pool, ThreadTask::Pending* done) {
  if (done == nullptr) {  // a pre-wake from the alarm thread
    if (env != nullptr) pool->OnPrewake(env);
    return;
  }
  pool->Settled(env, done);
  Settle(env, done);
}

}  // namespace

std::shared_ptr<TaskPool> CreateTaskPool(Napi::Env env) { return std::make_shared<TaskPool>(env); }

void StopTaskPool(TaskPool& pool) {
  pool.Stop();
}

Napi::Value SettleShortCalls(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData& data = AddonData::From(env);
  return Napi::Number::New(env, data.pool ? data.pool->SettleShort(env) : 0);
}

Napi::Value RunPathsForTest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    gPrewake.store(o.Get("prewake").ToBoolean().Value());
    gLongSpin.store(o.Get("longSpin").ToBoolean().Value());
    // The other hand-offs are on unless given false; the test delays are 0 unless given.
    auto onUnlessFalse = [&](const char* key) {
      Napi::Value v = o.Get(key);
      return v.IsUndefined() || v.ToBoolean().Value();
    };
    auto nsOrZero = [&](const char* key) {
      Napi::Value v = o.Get(key);
      return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : int64_t{0};
    };
    gTakeBack.store(onUnlessFalse("takeBack"));
    gAlarmFollows.store(onUnlessFalse("alarmFollows"));
    gStepOff.store(onUnlessFalse("stepOff"));
    gRunHere.store(onUnlessFalse("runHere"));
    gPrewakeTypical.store(onUnlessFalse("prewakeTypical"));
    gRewait.store(onUnlessFalse("rewait"));
    gPrewakeEarly.store(onUnlessFalse("prewakeEarly"));
    gWorkerWakeDelayNs.store(nsOrZero("workerWakeDelayNs"));
    gWorkerHoldNs.store(nsOrZero("workerHoldNs"));
    gRunHereMaxNs.store(nsOrZero("runHereMaxNs"));
    gStayHere.store(onUnlessFalse("stayHere"));
  }
  AddonData& data = AddonData::From(env);
  Napi::Object out = Napi::Object::New(env);
  TaskPool::Paths none;
  const TaskPool::Paths& paths = data.pool ? data.pool->paths() : none;
  out.Set("ranHere", Napi::Number::New(env, static_cast<double>(paths.ranHere)));
  out.Set("waited", Napi::Number::New(env, static_cast<double>(paths.waited)));
  out.Set("takenBack", Napi::Number::New(env, static_cast<double>(paths.takenBack)));
  out.Set("prewoken", Napi::Number::New(env, static_cast<double>(paths.prewoken)));
  out.Set("rewaited", Napi::Number::New(env, static_cast<double>(paths.rewaited)));
  out.Set("posted", Napi::Number::New(env, static_cast<double>(paths.posted)));
  out.Set("held", Napi::Number::New(env, static_cast<double>(paths.held)));
  out.Set("steppedOff", Napi::Number::New(env, static_cast<double>(data.pool ? data.pool->steppedOff() : 0)));
  return out;
}

Napi::Value SettleHeldCalls(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData& data = AddonData::From(env);
  return Napi::Number::New(env, data.pool ? data.pool->SettleHeld(env) : 0);
}

Napi::Promise ThreadTask::Submit(Napi::Env env, std::unique_ptr<ThreadTask> task, bool settledSoon) {
  auto* pending = new Pending{std::move(task), Napi::Promise::Deferred::New(env)};
  pending->expectedNs = pending->task->ExpectedNs();
  pending->typicalNs = pending->task->TypicalNs();
  pending->earlyNs = pending->task->EarlyNs();
  pending->runHereMaxNs = pending->task->RunHereMaxNs();
  pending->keptBefore = pending->task->KeptForJsThread();
  Napi::Promise promise = pending->deferred.Promise();
  AddonData& data = AddonData::From(env);
  if (!data.pool) {
    data.pool = CreateTaskPool(env);
    // Registered after the pool's thread-safe function, so it runs before that function's own
    // cleanup: the workers are joined while it still exists.
    std::shared_ptr<TaskPool> pool = data.pool;
    env.AddCleanupHook([pool]() { StopTaskPool(*pool); });
  }
  const bool hold = settledSoon && data.pool->BeforeRun();
  if (settledSoon && data.pool->Defers(pending)) {
    data.pool->Defer(pending);
    return promise;
  }
  if (data.pool->RunsHere(pending) && pending->task->ClaimToRunNow()) {
    data.pool->CountRanHere();
    RunPending(pending);
    if (hold) {
      data.pool->Hold(env, pending);
    } else {
      Settle(env, pending);
    }
    return promise;
  }
  try {
    data.pool->Submit(env, pending);
  } catch (const AuditException& e) {
    pending->deferred.Reject(MakeJsError(env, e.error()));
    delete pending;
  }
  return promise;
}

Napi::Promise ThreadTask::Start(Napi::Env env, std::unique_ptr<ThreadTask> task) {
  auto* pending = new Pending{std::move(task), Napi::Promise::Deferred::New(env)};
  Napi::Promise promise = pending->deferred.Promise();
  auto tsfn = DedicatedSettle::New(env, "model-audit-task", 0, 1, nullptr);
  try {
    std::thread thread([tsfn, pending]() mutable {
      RunPending(pending);
      tsfn.BlockingCall(pending);
      tsfn.Release();
    });
    NameThread(thread, "ma-task");
    thread.detach();
  } catch (const std::system_error& e) {
    tsfn.Release();
    Error error{ErrorKind::kRuntime, std::string("cannot start a thread: ") + e.what(), ""};
    pending->deferred.Reject(MakeJsError(env, error));
    delete pending;
  }
  return promise;
}

}  // namespace model_audit
