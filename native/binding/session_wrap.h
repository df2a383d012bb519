// The JS-facing session: owns a runtime session, runs it off the JS thread, survives close()
// while a run is still in flight.
#pragma once

#include <napi.h>

#include <memory>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "../measure/alloc_counters.h"
#include "../runtime/runtime.h"

namespace model_audit {

// Allocation counters of the runtime library at the start and end of one phase; the end's peak
// is the phase's high-water mark (the peak is reset when the phase starts).
struct PhaseMemory {
  AllocSnapshot start;
  AllocSnapshot end;
  bool measured = false;
};

struct SessionHolder {
  std::shared_ptr<Runtime> runtime;
  std::unique_ptr<Session> session;
  std::mutex runMutex;  // held around runs of sessions that cannot run concurrently
  int64_t createNs = 0;
  std::atomic<int64_t> runs{0};  // runs started on this session, so a first run can be called cold or not
  // Kept so that the session can be opened again (throughput opens one session per stream).
  std::string kind;
  std::vector<uint8_t> modelBytes;
  SessionOptions options;
  // The runtime library's allocation counters (-1: not counted, `countingError` says why).
  int counterSlot = -1;
  std::string countingError;
  PhaseMemory loadMemory;    // TFLite: building the model from the flatbuffer
  PhaseMemory createMemory;  // the session or interpreter, with its tensors
  std::atomic<int64_t> testLeakBytesPerRun{0};  // test hook: a runtime that leaks on every run
  std::atomic<int64_t> testDelayNsPerRun{0};    // test hook: a runtime that got slower

  ~SessionHolder() {
    // The session's frees are counted before counting may stop.
    session.reset();
    ReleaseAllocationCounters(counterSlot);
  }

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
  Napi::Value Benchmark(const Napi::CallbackInfo& info);
  Napi::Value Clone(const Napi::CallbackInfo& info);
  Napi::Value Memory(const Napi::CallbackInfo& info);
  Napi::Value ResetPeak(const Napi::CallbackInfo& info);
  Napi::Value SetTestLeak(const Napi::CallbackInfo& info);
  Napi::Value SetTestDelay(const Napi::CallbackInfo& info);

  std::shared_ptr<SessionHolder> holder_;
};

// Opens a runtime session and records what is needed to open it again.
std::shared_ptr<SessionHolder> OpenHolder(const std::string& kind, const std::string& libraryPath, std::vector<uint8_t> bytes,
                                          const SessionOptions& options);

// openSession(kind, libraryPath, bytes, options) -> Promise<Session>
Napi::Value OpenSession(const Napi::CallbackInfo& info);
Napi::Value OpenSessionSync(const Napi::CallbackInfo& info);
// A prepared run with the session's test hooks applied: it leaks through the library's counted
// malloc and/or spins for a delay after every call. Without hooks, the run itself.
std::unique_ptr<PreparedRun> WithTestLeak(std::unique_ptr<PreparedRun> run, const SessionHolder& holder);

// A phase's allocation figures as a JS object.
Napi::Object PhaseMemoryToJs(Napi::Env env, const PhaseMemory& phase);
Napi::Object SnapshotToJs(Napi::Env env, const AllocSnapshot& snapshot);
// heapInfo() -> mallinfo2 figures
Napi::Value HeapInfoEntry(const Napi::CallbackInfo& info);

// runtimeInfo(kind, libraryPath) -> { name, version, apiVersion, libraryPath }
Napi::Value RuntimeInfo(const Napi::CallbackInfo& info);

}  // namespace model_audit
