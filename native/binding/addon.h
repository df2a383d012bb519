// Per-environment state (worker-thread safe): one instance per Node environment.
#pragma once

#include <napi.h>

#include "errors.h"

namespace model_audit {

struct AddonData {
  ErrorClasses errors;
  Napi::FunctionReference sessionConstructor;

  static AddonData& From(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }
};

}  // namespace model_audit
