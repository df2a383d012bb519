// Runs work on threads this addon owns (not the JS thread, not libuv's pool, whose four threads
// other I/O needs and whose affinity we must not change) and settles a promise on the JS thread.
#pragma once

#include <napi.h>

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

  // Runs the task on a thread of its own, started for it: for long tasks that pin their thread
  // (the measurement loops). Returns its promise.
  static Napi::Promise Start(Napi::Env env, std::unique_ptr<ThreadTask> task);
  // Runs the task on one of the environment's persistent workers: for short calls (run, open),
  // where starting a thread would cost more than the work. Returns its promise.
  static Napi::Promise Submit(Napi::Env env, std::unique_ptr<ThreadTask> task);

  struct Pending;  // internal to thread_task.cc
};

// The persistent workers of one Node environment: started as concurrent calls need them (up to a
// bound), kept for later calls, joined when the environment ends. One thread-safe function
// carries every result back to the JS thread; it holds the event loop open only while a call is
// outstanding.
std::shared_ptr<TaskPool> CreateTaskPool(Napi::Env env);
void StopTaskPool(TaskPool& pool);

}  // namespace model_audit
