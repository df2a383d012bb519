// Runs work on threads this addon owns (not the JS thread, not libuv's pool, whose four threads
// other I/O needs and whose affinity we must not change) and settles a promise on the JS thread.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>

#include "errors.h"

namespace model_audit {

class TaskPool;

class ThreadTask {
 public:
  virtual ~ThreadTask() = default;
  // Off the JS thread. Throw AuditException to reject.
  virtual void Execute() = 0;
  // On the JS thread, after Execute returned normally.
  virtual Napi::Value Result(Napi::Env env) = 0;
  // How long Execute is expected to take (0: unknown). A call expected to be short enough is one
  // the JS thread may wait for briefly instead of being woken for it (see SettleShortCalls).
  virtual int64_t ExpectedNs() const { return 0; }
  // How long Execute typically takes, as a figure one slow call does not move (0: unknown): whether
  // a short call runs on the JS thread (see Submit).
  virtual int64_t TypicalNs() const { return 0; }
  // How soon Execute may end, as a low figure of its recent times (0: unknown): when a longer
  // call's pre-wake is due (see Submit).
  virtual int64_t EarlyNs() const { return 0; }
  // The typical time up to which a call made alone runs on the JS thread (see Submit's
  // settledSoon: only runs are; the session's jsThreadRunMaxNs).
  virtual int64_t RunHereMaxNs() const { return 0; }
  // Whether the last such call found the typical time within the bound that kept it for the JS
  // thread, and noting it (see TaskPool::Defers): once there, calls stay up to half as long again.
  virtual bool KeptForJsThread() const { return false; }
  virtual void NoteKeptForJsThread(bool) {}
  // Whether Execute may run on the calling thread now without waiting for anything, taking what
  // it needs for that (a run lock no other call holds): asked of a short call before the JS
  // thread runs it itself (one CPU: Submit), or takes it back from the queue (under the pool's
  // lock). A task that says yes is executed next, on that thread.
  virtual bool ClaimToRunNow() { return false; }

  // Runs the task on a thread of its own, started for it: for long tasks that pin their thread
  // (the measurement loops). Returns its promise.
  static Napi::Promise Start(Napi::Env env, std::unique_ptr<ThreadTask> task);
  // Runs the task on one of the environment's persistent workers: for short calls (run, open),
  // where starting a thread would cost more than the work. Where the process has one CPU, a call
  // expected to take at most 250 µs runs on the JS thread when nothing else is outstanding and
  // ClaimToRunNow (see TaskPool::RunsHere); a run() call (settledSoon) is then kept for
  // SettleHeldCalls instead of settled at once when 1 ms has passed since the event loop last
  // turned (TaskPool::BeforeRun). A longer call (up to 4 ms) made with no other call
  // outstanding has the JS thread woken 150 µs before its early end (EarlyNs, as planned: the
  // timer may come late), by a thread of the pool that sleeps until then on the CPU the call was submitted
  // from, to wait for it (at most 250 µs) and settle it: the wake-up overlaps the end of the run.
  // If the call outlasts that wait, the JS thread waits again after a turn of the event loop, up
  // to three times. A worker about to run a call longer than 250 µs that finds itself on that CPU
  // moves off it, where the process has another. A short call that no worker has started 50 µs
  // into the JS thread's wait is taken back and run there, if ClaimToRunNow and it fits in the
  // wait. Returns its promise. With settledSoon (the caller has queued a SettleShortCalls for this
  // turn: run()), a call that typically takes at most RunHereMaxNs (TypicalNs; 250 µs by default;
  // half as long again where the session's last call was kept so) and is expected to take at most
  // that, 250 µs or twice its typical time, whichever is longest (ExpectedNs), is dispatched by
  // that SettleShortCalls instead: run there on the JS thread if it was made alone,
  // else queued for the workers with the others of its turn.
  static Napi::Promise Submit(Napi::Env env, std::unique_ptr<ThreadTask> task, bool settledSoon = false);

  struct Pending;  // internal to thread_task.cc
};

// The persistent workers of one Node environment: started as concurrent calls need them (up to a
// bound), kept for later calls, joined when the environment ends. One thread-safe function
// carries every result back to the JS thread; it holds the event loop open only while a call is
// outstanding.
std::shared_ptr<TaskPool> CreateTaskPool(Napi::Env env);
void StopTaskPool(TaskPool& pool);

// On the JS thread, from a microtask queued by the call that submitted them: waits, spinning, at
// most 4 × the expected time + 20 µs of the calls submitted since the last wait that are expected
// to take at most 250 µs (and never longer than that), and settles those that finished. Waking a
// JS thread asleep in the event loop costs more than a small model's run; a bounded wait stalls I/O
// less than a synchronous run. Once 1 ms has passed since the event loop last turned (counted from
// the first run() call after it), the calls that finished are held instead, for SettleHeldCalls,
// which lib/model/model.ts calls from an immediate: the loop turns at least every ~1 ms. Returns
// how many calls are held (with those run on the JS thread and held by ThreadTask::Submit), 0 when
// none is.
Napi::Value SettleShortCalls(const Napi::CallbackInfo& info);
// On the JS thread, from an immediate: settles the calls SettleShortCalls held; returns how many.
Napi::Value SettleHeldCalls(const Napi::CallbackInfo& info);
// Test hook: how this environment's pool calls were settled so far, as { ranHere, waited,
// takenBack, prewoken, rewaited, posted, held, steppedOff } (a held call counts where it finished,
// ranHere or waited, and among held; rewaited counts among prewoken). Given { prewake, longSpin, ... }, first turns
// the hand-offs on or off and sets the test delays for the whole process (lib/native.ts lists
// them), for the tests and for bench/hand-offs.mjs to compare them in one process.
Napi::Value RunPathsForTest(const Napi::CallbackInfo& info);

}  // namespace model_audit
