// The JS-facing session: owns a runtime session, runs it off the JS thread, survives close()
// while a run is still in flight.
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>

#include "../runtime/runtime.h"

namespace model_audit {

struct SessionHolder {
  std::shared_ptr<Runtime> runtime;
  std::unique_ptr<Session> session;
  std::mutex runMutex;  // held around runs of sessions that cannot run concurrently
  int64_t createNs = 0;

  std::unique_lock<std::mutex> LockForRun() {
    return session->SupportsConcurrentRuns() ? std::unique_lock<std::mutex>() : std::unique_lock<std::mutex>(runMutex);
  }
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
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value IsClosed(const Napi::CallbackInfo& info);
  Napi::Value CreateNs(const Napi::CallbackInfo& info);
  Napi::Value Summary(const Napi::CallbackInfo& info);

  std::shared_ptr<SessionHolder> holder_;
};

// openSession(kind, libraryPath, bytes, options) -> Promise<Session>
Napi::Value OpenSession(const Napi::CallbackInfo& info);
Napi::Value OpenSessionSync(const Napi::CallbackInfo& info);
// runtimeInfo(kind, libraryPath) -> { name, version, apiVersion, libraryPath }
Napi::Value RuntimeInfo(const Napi::CallbackInfo& info);

}  // namespace model_audit
