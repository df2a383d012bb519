// Builds the exports table and nothing else.
#include <napi.h>

#include "../measure/clock.h"
#include "addon.h"
#include "errors.h"
#include "session_wrap.h"

namespace model_audit {
namespace {

Napi::Value SetErrorClassesEntry(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "Expected an object of error classes");
  SetErrorClasses(info.Env(), info[0].As<Napi::Object>());
  return info.Env().Undefined();
}

Napi::Value ClockInfoEntry(const Napi::CallbackInfo& info) {
  ClockInfo clock = MeasureClock();
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("resolutionNs", static_cast<double>(clock.resolutionNs));
  result.Set("readCostNs", clock.readCostNs);
  result.Set("smallestStepNs", static_cast<double>(clock.smallestStepNs));
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  Napi::Function sessionClass = SessionWrap::DefineClass(env);
  data->sessionConstructor = Napi::Persistent(sessionClass);
  exports.Set("setErrorClasses", Napi::Function::New<SetErrorClassesEntry>(env, "setErrorClasses"));
  exports.Set("openSession", Napi::Function::New<OpenSession>(env, "openSession"));
  exports.Set("openSessionSync", Napi::Function::New<OpenSessionSync>(env, "openSessionSync"));
  exports.Set("runtimeInfo", Napi::Function::New<RuntimeInfo>(env, "runtimeInfo"));
  exports.Set("clockInfo", Napi::Function::New<ClockInfoEntry>(env, "clockInfo"));
  return exports;
}

}  // namespace
}  // namespace model_audit

static Napi::Object InitModelAudit(Napi::Env env, Napi::Object exports) { return model_audit::Init(env, exports); }

NODE_API_MODULE(model_audit, InitModelAudit)
