// Builds the exports table and nothing else.
#include <napi.h>

#include "addon.h"
#include "bound_run.h"
#include "errors.h"
#include "measure_tasks.h"
#include "process_controls.h"
#include "session_wrap.h"
#include "thread_task.h"

namespace model_audit {
namespace {

Napi::Value SetErrorClassesEntry(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "Expected an object of error classes");
  SetErrorClasses(info.Env(), info[0].As<Napi::Object>());
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  Napi::Function sessionClass = SessionWrap::DefineClass(env);
  data->sessionConstructor = Napi::Persistent(sessionClass);
  data->boundRunConstructor = Napi::Persistent(BoundRunWrap::DefineClass(env));
  exports.Set("setErrorClasses", Napi::Function::New<SetErrorClassesEntry>(env, "setErrorClasses"));
  exports.Set("openSession", Napi::Function::New<OpenSession>(env, "openSession"));
  exports.Set("openSessionSync", Napi::Function::New<OpenSessionSync>(env, "openSessionSync"));
  exports.Set("runtimeInfo", Napi::Function::New<RuntimeInfo>(env, "runtimeInfo"));
  exports.Set("pinProcess", Napi::Function::New<PinProcessEntry>(env, "pinProcess"));
  exports.Set("limitAddressSpace", Napi::Function::New<LimitAddressSpaceEntry>(env, "limitAddressSpace"));
  exports.Set("crashForTest", Napi::Function::New<CrashForTestEntry>(env, "crashForTest"));
  exports.Set("heapInfo", Napi::Function::New<HeapInfoEntry>(env, "heapInfo"));
  exports.Set("harnessInfo", Napi::Function::New<HarnessInfo>(env, "harnessInfo"));
  exports.Set("throughputClosed", Napi::Function::New<ThroughputClosed>(env, "throughputClosed"));
  exports.Set("throughputOpen", Napi::Function::New<ThroughputOpen>(env, "throughputOpen"));
  exports.Set("settleShortCalls", Napi::Function::New<SettleShortCalls>(env, "settleShortCalls"));
  exports.Set("settleHeldCalls", Napi::Function::New<SettleHeldCalls>(env, "settleHeldCalls"));
  exports.Set("runPathsForTest", Napi::Function::New<RunPathsForTest>(env, "runPathsForTest"));
  return exports;
}

}  // namespace
}  // namespace model_audit

static Napi::Object InitModelAudit(Napi::Env env, Napi::Object exports) { return model_audit::Init(env, exports); }

NODE_API_MODULE(model_audit, InitModelAudit)
