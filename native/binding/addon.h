// Per-environment state (worker-thread safe): one instance per Node environment.
#pragma once

#include <napi.h>

#include <memory>

#include "errors.h"

namespace model_audit {

class TaskPool;

struct AddonData {
  ErrorClasses errors;
  Napi::FunctionReference sessionConstructor;
  Napi::FunctionReference boundRunConstructor;
  // The persistent workers of short calls, started on first use (see thread_task.h).
  std::shared_ptr<TaskPool> pool;

  static AddonData& From(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }
};

}  // namespace model_audit
