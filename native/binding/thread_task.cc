#include "thread_task.h"

#include <exception>
#include <string>

namespace model_audit {

struct ThreadTask::Pending {
  std::unique_ptr<ThreadTask> task;
  Napi::Promise::Deferred deferred;
  bool failed = false;
  Error error{ErrorKind::kRuntime, "", ""};
};

namespace {

void SettleOnJsThread(Napi::Env env, Napi::Function, std::nullptr_t*, ThreadTask::Pending* done);
using SettleFunction = Napi::TypedThreadSafeFunction<std::nullptr_t, ThreadTask::Pending, SettleOnJsThread>;

void SettleOnJsThread(Napi::Env env, Napi::Function, std::nullptr_t*, ThreadTask::Pending* done) {
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

}  // namespace

Napi::Promise ThreadTask::Start(Napi::Env env, std::unique_ptr<ThreadTask> task) {
  auto* pending = new Pending{std::move(task), Napi::Promise::Deferred::New(env)};
  Napi::Promise promise = pending->deferred.Promise();
  auto tsfn = SettleFunction::New(env, "model-audit-task", 0, 1, nullptr);
  try {
    std::thread([tsfn, pending]() mutable {
      try {
        pending->task->Execute();
      } catch (const AuditException& e) {
        pending->failed = true;
        pending->error = e.error();
      } catch (const std::exception& e) {
        pending->failed = true;
        pending->error = Error{ErrorKind::kRuntime, std::string("native error: ") + e.what(), e.what()};
      } catch (...) {
        pending->failed = true;
        pending->error = Error{ErrorKind::kRuntime, "unknown native error", ""};
      }
      tsfn.BlockingCall(pending);
      tsfn.Release();
    }).detach();
  } catch (const std::system_error& e) {
    tsfn.Release();
    Error error{ErrorKind::kRuntime, std::string("cannot start a thread: ") + e.what(), ""};
    pending->deferred.Reject(MakeJsError(env, error));
    delete pending;
  }
  return promise;
}

}  // namespace model_audit
