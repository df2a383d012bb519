#include "session_wrap.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../measure/clock.h"
#include "addon.h"
#include "bound_run.h"
#include "convert.h"
#include "errors.h"
#include "measure_tasks.h"
#include "thread_task.h"

namespace model_audit {

namespace {

std::shared_ptr<Runtime> LoadRuntime(const std::string& kind, const std::string& path) {
  if (kind == "onnx") return LoadOnnxRuntime(path);
  if (kind == "tflite") return LoadTfLiteRuntime(path);
  throw AuditException(ErrorKind::kInvalidArgument, "Expected 'onnx' or 'tflite' for runtime but received '" + kind + "'");
}

struct OpenRequest {
  std::string kind;
  std::string libraryPath;
  std::vector<uint8_t> bytes;
  SessionOptions options;
};

OpenRequest ReadOpenRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsTypedArray()) {
    throw Napi::TypeError::New(env, "Expected (runtime: string, libraryPath: string, bytes: Uint8Array, options)");
  }
  OpenRequest request;
  request.kind = info[0].As<Napi::String>().Utf8Value();
  request.libraryPath = info[1].As<Napi::String>().Utf8Value();
  Napi::TypedArray typed = info[2].As<Napi::TypedArray>();
  const auto* start = static_cast<const uint8_t*>(typed.ArrayBuffer().Data()) + typed.ByteOffset();
  request.bytes.assign(start, start + typed.ByteLength());
  request.options = ReadSessionOptions(env, info[3]);
  if (request.kind != "onnx" && request.kind != "tflite") {
    throw Napi::TypeError::New(env, "Expected 'onnx' or 'tflite' for runtime but received '" + request.kind + "'");
  }
  return request;
}

class OpenTask final : public ThreadTask {
 public:
  explicit OpenTask(OpenRequest request) : request_(std::move(request)) {}
  void Execute() override {
    holder_ = OpenHolder(request_.kind, request_.libraryPath, std::move(request_.bytes), request_.options);
  }
  Napi::Value Result(Napi::Env env) override { return SessionWrap::NewInstance(env, holder_); }

 private:
  OpenRequest request_;
  std::shared_ptr<SessionHolder> holder_;
};

class CloneTask final : public ThreadTask {
 public:
  explicit CloneTask(std::shared_ptr<SessionHolder> source) : source_(std::move(source)) {}
  void Execute() override {
    holder_ = OpenHolder(source_->kind, source_->runtime->LibraryPath(), source_->modelBytes, source_->options);
  }
  Napi::Value Result(Napi::Env env) override { return SessionWrap::NewInstance(env, holder_); }

 private:
  std::shared_ptr<SessionHolder> source_;
  std::shared_ptr<SessionHolder> holder_;
};

class RunTask final : public SessionRunTask {
 public:
  RunTask(std::shared_ptr<SessionHolder> holder, std::vector<OwnedTensor> feeds)
      : SessionRunTask(std::move(holder)), feeds_(std::move(feeds)) {}
  void Execute() override { outputs_ = RunOnce(Views(feeds_)); }
  Napi::Value Result(Napi::Env env) override { return OutputsToJs(env, outputs_); }

 private:
  std::vector<OwnedTensor> feeds_;
  std::vector<OutputTensor> outputs_;
};

}  // namespace

std::vector<OutputTensor> SessionRunTask::RunOnce(const std::vector<TensorView>& views) {
  const int64_t start = NowNs();
  std::vector<OutputTensor> outputs;
  {
    RunScope scope = claimed_ ? RunScope(*holder_, RunScope::Caller::kThisThread, std::move(lock_)) : RunScope(*holder_);
    outputs = holder_->session->Run(views);
  }
  holder_->RecordRun(NowNs() - start);
  return outputs;
}

std::shared_ptr<SessionHolder> OpenHolder(const std::string& kind, const std::string& libraryPath, std::vector<uint8_t> bytes,
                                          const SessionOptions& options) {
  auto holder = std::make_shared<SessionHolder>();
  holder->runtime = LoadRuntime(kind, libraryPath);
  holder->kind = kind;
  holder->options = options;
  holder->modelBytes = std::move(bytes);
  if (options.countAllocations) {
    holder->counterSlot =
        AcquireAllocationCounters(holder->runtime->LibraryHandle(), holder->runtime->Name(), &holder->countingError);
  } else {
    holder->countingError = "counting was turned off (countAllocations: false)";
  }
  const int slot = holder->counterSlot;
  ResetAllocPeak(slot);
  const AllocSnapshot start = ReadAllocCounters(slot);
  auto afterModelLoad = [&]() {
    holder->loadMemory = PhaseMemory{start, ReadAllocCounters(slot), slot >= 0};
    ResetAllocPeak(slot);
  };
  const int64_t t0 = NowNs();
  holder->session = holder->runtime->Open(holder->modelBytes.data(), holder->modelBytes.size(), options, afterModelLoad);
  holder->createNs = NowNs() - t0;
  const AllocSnapshot& createStart = holder->loadMemory.measured ? holder->loadMemory.end : start;
  holder->createMemory = PhaseMemory{createStart, ReadAllocCounters(slot), slot >= 0};
  return holder;
}

Napi::Function SessionWrap::DefineClass(Napi::Env env) {
  return ObjectWrap<SessionWrap>::DefineClass(
      env, "NativeSession",
      {
          InstanceMethod<&SessionWrap::Inputs>("inputs"),
          InstanceMethod<&SessionWrap::Outputs>("outputs"),
          InstanceMethod<&SessionWrap::Run>("run"),
          InstanceMethod<&SessionWrap::RunSync>("runSync"),
          InstanceMethod<&SessionWrap::Bind>("bind"),
          InstanceMethod<&SessionWrap::Close>("close"),
          InstanceMethod<&SessionWrap::IsClosed>("isClosed"),
          InstanceMethod<&SessionWrap::CreateNs>("createNs"),
          InstanceMethod<&SessionWrap::Benchmark>("benchmark"),
          InstanceMethod<&SessionWrap::Clone>("clone"),
          InstanceMethod<&SessionWrap::Memory>("memory"),
          InstanceMethod<&SessionWrap::ResetPeak>("resetPeak"),
          InstanceMethod<&SessionWrap::SetTestLeak>("setTestLeak"),
          InstanceMethod<&SessionWrap::SetTestDelay>("setTestDelay"),
          InstanceMethod<&SessionWrap::RunTimesForTest>("runTimesForTest"),
          InstanceMethod<&SessionWrap::SetTestFailAfter>("setTestFailAfter"),
          InstanceMethod<&SessionWrap::SetInputGuard>("setInputGuard"),
          InstanceMethod<&SessionWrap::EndProfiling>("endProfiling"),
      });
}

SessionWrap::SessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SessionWrap>(info) {}

Napi::Object SessionWrap::NewInstance(Napi::Env env, std::shared_ptr<SessionHolder> holder) {
  Napi::Object object = AddonData::From(env).sessionConstructor.New({});
  SessionWrap::Unwrap(object)->holder_ = std::move(holder);
  return object;
}

std::shared_ptr<SessionHolder> SessionWrap::RequireOpen(Napi::Env env) const {
  if (!holder_) throw Napi::Error(env, ClosedError(env, "the model was closed; open it again to use it"));
  return holder_;
}

Napi::Value SessionWrap::Inputs(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() { return TensorInfosToJs(info.Env(), RequireOpen(info.Env())->session->Inputs()); });
}

Napi::Value SessionWrap::Outputs(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() { return TensorInfosToJs(info.Env(), RequireOpen(info.Env())->session->Outputs()); });
}

Napi::Value SessionWrap::Run(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    auto holder = RequireOpen(info.Env());
    auto feeds = ReadFeeds(info.Env(), info[0]);
    // lib/model/model.ts queues the wait for short calls before every run: settled soon.
    return ThreadTask::Submit(info.Env(), std::make_unique<RunTask>(holder, std::move(feeds)), true);
  });
}

Napi::Value SessionWrap::RunSync(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    auto holder = RequireOpen(info.Env());
    auto feeds = ReadFeeds(info.Env(), info[0]);
    std::vector<OutputTensor> outputs;
    {
      RunScope scope(*holder);
      outputs = holder->session->Run(Views(feeds));
    }
    return OutputsToJs(info.Env(), outputs);
  });
}

Napi::Value SessionWrap::Bind(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    RequireOpen(info.Env());
    return BoundRunWrap::NewInstance(info.Env(), info.This().As<Napi::Object>(), info[0]);
  });
}

Napi::Value SessionWrap::Close(const Napi::CallbackInfo& info) {
  // Runs still in flight hold their own reference; the runtime session goes when the last ends.
  holder_.reset();
  return info.Env().Undefined();
}

Napi::Value SessionWrap::IsClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !holder_); }

Napi::Value SessionWrap::CreateNs(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(RequireOpen(info.Env())->createNs));
  });
}

Napi::Value SessionWrap::Clone(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    return ThreadTask::Submit(info.Env(), std::make_unique<CloneTask>(RequireOpen(info.Env())));
  });
}

Napi::Value SessionWrap::Benchmark(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value { return StartBenchmark(info, RequireOpen(info.Env())); });
}

Napi::Value SessionWrap::Memory(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    auto holder = RequireOpen(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("counted", CountersInstalled(holder->counterSlot));
    o.Set("countingError", holder->countingError);
    o.Set("counters", SnapshotToJs(env, ReadAllocCounters(holder->counterSlot)));
    o.Set("load", PhaseMemoryToJs(env, holder->loadMemory));
    o.Set("create", PhaseMemoryToJs(env, holder->createMemory));
    return o;
  });
}

Napi::Value SessionWrap::ResetPeak(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    ResetAllocPeak(RequireOpen(info.Env())->counterSlot);
    return info.Env().Undefined();
  });
}

namespace {

class TestHookRun final : public PreparedRun {
 public:
  TestHookRun(std::unique_ptr<PreparedRun> inner, int slot, int64_t bytes, Session* leakInside, int64_t delayNs,
              std::atomic<int64_t>* runsBeforeFailure)
      : inner_(std::move(inner)), slot_(slot), bytes_(bytes), leakInside_(leakInside), delayNs_(delayNs),
        runsBeforeFailure_(runsBeforeFailure) {}
  bool Bind() override { return inner_->Bind(); }
  bool Invoke() override {
    if (runsBeforeFailure_ != nullptr && runsBeforeFailure_->load() >= 0 && runsBeforeFailure_->fetch_sub(1) <= 0) {
      runsBeforeFailure_->store(0);
      injectedFailure_ = true;
      return false;
    }
    injectedFailure_ = false;
    const bool ok = inner_->Invoke();
    if (bytes_ > 0) {
      if (leakInside_ != nullptr) {
        leakInside_->LeakInsideForTest(static_cast<size_t>(bytes_));
      } else {
        LeakForTest(slot_, static_cast<size_t>(bytes_));
      }
    }
    if (delayNs_ > 0) {
      const int64_t until = NowNs() + delayNs_;
      while (NowNs() < until) {
      }
    }
    return ok;
  }
  void ReleaseOutputs() override { inner_->ReleaseOutputs(); }
  std::vector<OutputTensor> TakeOutputs() override { return inner_->TakeOutputs(); }
  Error LastError() const override {
    if (injectedFailure_) return Error{ErrorKind::kRuntime, "the run failed (injected by the failAfterRuns test hook)", ""};
    return inner_->LastError();
  }

 private:
  std::unique_ptr<PreparedRun> inner_;
  int slot_;
  int64_t bytes_;
  Session* leakInside_;  // the session whose runtime leaks, or null: the counting wrapper does
  int64_t delayNs_;
  std::atomic<int64_t>* runsBeforeFailure_;  // the session's, or null
  bool injectedFailure_ = false;
};

void RequireTestHooks(Napi::Env env, const char* what) {
  const char* enabled = std::getenv("MODEL_AUDIT_TEST_HOOKS");
  if (enabled == nullptr || std::strcmp(enabled, "1") != 0) {
    throw Napi::Error::New(env, std::string(what) + " is a test hook: set MODEL_AUDIT_TEST_HOOKS=1 to use it");
  }
}

}  // namespace

std::unique_ptr<PreparedRun> WithTestLeak(std::unique_ptr<PreparedRun> run, const SessionHolder& holder) {
  const int64_t bytes = holder.testLeakBytesPerRun.load();
  const int64_t delay = holder.testDelayNsPerRun.load();
  const bool failing = holder.testRunsBeforeFailure.load() >= 0;
  if (bytes <= 0 && delay <= 0 && !failing) return run;
  Session* inside = holder.testLeakInsideRuntime.load() ? holder.session.get() : nullptr;
  return std::make_unique<TestHookRun>(std::move(run), holder.counterSlot, bytes, inside, delay,
                                       failing ? &holder.testRunsBeforeFailure : nullptr);
}

// Ends the runtime's profiling (ONNX Runtime writes its trace file now) and returns the file's path.
Napi::Value SessionWrap::EndProfiling(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    auto holder = RequireOpen(info.Env());
    std::string file;
    {
      auto lock = holder->LockForRun();
      file = holder->session->EndProfiling();
    }
    return Napi::String::New(info.Env(), file);
  });
}

// Turns the runtime's input guard off or on (between runs: it waits for a run in progress).
Napi::Value SessionWrap::SetInputGuard(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBoolean()) throw Napi::TypeError::New(env, "Expected a boolean");
    auto holder = RequireOpen(env);
    auto lock = holder->LockForRun();
    holder->session->SetInputGuard(info[0].As<Napi::Boolean>().Value());
    return env.Undefined();
  });
}

// Test hook: after `runs` more runs, every run of this session fails (a negative count turns it off).
Napi::Value SessionWrap::SetTestFailAfter(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    RequireTestHooks(env, "setTestFailAfter");
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "Expected a number of runs");
    RequireOpen(env)->testRunsBeforeFailure.store(info[0].As<Napi::Number>().Int64Value());
    return env.Undefined();
  });
}

Napi::Value SessionWrap::RunTimesForTest(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const std::shared_ptr<SessionHolder> holder = RequireOpen(env);
    Napi::Object out = Napi::Object::New(env);
    out.Set("typicalNs", Napi::Number::New(env, static_cast<double>(holder->typicalRunNs.load())));
    out.Set("expectedNs", Napi::Number::New(env, static_cast<double>(holder->recentRunNs.load())));
    out.Set("keptForJsThread", Napi::Boolean::New(env, holder->keptForJsThread.load()));
    return out;
  });
}

Napi::Value SessionWrap::SetTestDelay(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    RequireTestHooks(env, "setTestDelay");
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "Expected a number of nanoseconds");
    RequireOpen(env)->testDelayNsPerRun.store(info[0].As<Napi::Number>().Int64Value());
    return env.Undefined();
  });
}

Napi::Value SessionWrap::SetTestLeak(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    RequireTestHooks(env, "setTestLeak");
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "Expected a number of bytes");
    auto holder = RequireOpen(env);
    const bool inside = info.Length() > 1 && info[1].ToBoolean().Value();
    const int64_t bytes = info[0].As<Napi::Number>().Int64Value();
    // Probed once here, outside any measurement: a runtime without the call refuses the hook.
    if (inside && bytes > 0 && !holder->session->LeakInsideForTest(1)) {
      throw AuditException(ErrorKind::kUnsupported, std::string("a leak inside the runtime is a test hook ") + holder->runtime->Name() + " does not offer");
    }
    holder->testLeakInsideRuntime.store(inside);
    holder->testLeakBytesPerRun.store(bytes);
    return env.Undefined();
  });
}

Napi::Value OpenSession(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    OpenRequest request = ReadOpenRequest(info);
    return ThreadTask::Submit(info.Env(), std::make_unique<OpenTask>(std::move(request)));
  });
}

Napi::Value OpenSessionSync(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    OpenRequest request = ReadOpenRequest(info);
    return SessionWrap::NewInstance(
        info.Env(), OpenHolder(request.kind, request.libraryPath, std::move(request.bytes), request.options));
  });
}

Napi::Value RuntimeInfo(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
      throw Napi::TypeError::New(env, "Expected (runtime: string, libraryPath: string)");
    }
    auto runtime = LoadRuntime(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value());
    Napi::Object result = Napi::Object::New(env);
    result.Set("name", runtime->Name());
    result.Set("version", runtime->Version());
    result.Set("apiVersion", runtime->ApiVersion());
    result.Set("libraryPath", runtime->LibraryPath());
    const int slot = FindAllocationCounters(runtime->LibraryHandle());
    result.Set("counted", CountersInstalled(slot));
    result.Set("counters", slot >= 0 ? Napi::Value(SnapshotToJs(env, ReadAllocCounters(slot))) : env.Null());
    return result;
  });
}

}  // namespace model_audit
