#include "process_controls.h"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../measure/heap_info.h"
#include "../measure/limits.h"

namespace model_audit {

Napi::Value PinProcessEntry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "Expected an array of CPUs");
  Napi::Array array = info[0].As<Napi::Array>();
  std::vector<int> cpus;
  for (uint32_t i = 0; i < array.Length(); ++i) cpus.push_back(array.Get(i).As<Napi::Number>().Int32Value());
  return Napi::String::New(env, PinProcess(cpus));
}

Napi::Value LimitAddressSpaceEntry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "Expected a number of bytes");
  const int64_t extra = info[0].As<Napi::Number>().Int64Value();
  const int64_t base = AddressSpaceBytes();
  Napi::Object result = Napi::Object::New(env);
  result.Set("baseBytes", static_cast<double>(base));
  if (base < 0) {
    result.Set("limitBytes", -1);
    result.Set("error", "cannot read VmSize from /proc/self/status");
    return result;
  }
  const int64_t limit = base + extra;
  result.Set("limitBytes", static_cast<double>(limit));
  result.Set("error", LimitAddressSpace(limit));
  return result;
}

Napi::Value CrashForTestEntry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* enabled = std::getenv("MODEL_AUDIT_TEST_HOOKS");
  if (enabled == nullptr || std::strcmp(enabled, "1") != 0) {
    throw Napi::Error::New(env, "crashForTest is a test hook: set MODEL_AUDIT_TEST_HOOKS=1 to use it");
  }
  const std::string kind = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "segv";
  if (kind == "abort") std::abort();
  // Node installs its own SIGSEGV handler; put the default back so the signal ends the process
  // the way a crashing runtime would.
  std::signal(SIGSEGV, SIG_DFL);
  std::raise(SIGSEGV);
  return env.Undefined();
}

Napi::Value HeapInfoEntry(const Napi::CallbackInfo& info) {
  HeapInfo heap = ReadHeapInfo();
  Napi::Env env = info.Env();
  if (!heap.available) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("arenaBytes", static_cast<double>(heap.arenaBytes));
  o.Set("inUseBytes", static_cast<double>(heap.inUseBytes));
  o.Set("mmappedBytes", static_cast<double>(heap.mmappedBytes));
  o.Set("freeBytes", static_cast<double>(heap.freeBytes));
  return o;
}

}  // namespace model_audit
