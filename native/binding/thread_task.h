// Runs work on a thread this addon owns (not the JS thread, not libuv's pool, whose four threads
// other I/O needs and whose affinity we must not change) and settles a promise on the JS thread.
#pragma once

#include <napi.h>

#include <memory>
#include <thread>

#include "errors.h"

namespace model_audit {

class ThreadTask {
 public:
  virtual ~ThreadTask() = default;
  // Off the JS thread. Throw AuditException to reject.
  virtual void Execute() = 0;
  // On the JS thread, after Execute returned normally.
  virtual Napi::Value Result(Napi::Env env) = 0;

  // Starts the task and returns its promise.
  static Napi::Promise Start(Napi::Env env, std::unique_ptr<ThreadTask> task);

  struct Pending;  // internal to thread_task.cc
};

}  // namespace model_audit
