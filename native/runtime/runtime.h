// The one small interface every runtime adapter implements. Nothing here knows Node-API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace model_audit {

enum class DType : int {
  kFloat32 = 0,
  kFloat16,
  kFloat64,
  kInt8,
  kUint8,
  kInt16,
  kInt32,
  kInt64,
  kBool,
  kUnsupported,
};

const char* DTypeName(DType dtype);
size_t DTypeSize(DType dtype);

// Failures a user can cause, by kind; the binding maps each kind to a JS error class.
enum class ErrorKind {
  kCorruptModel,    // the runtime could not parse or build the model
  kFeed,            // inputs that do not match the model
  kRuntime,         // the runtime failed while running
  kLibrary,         // the runtime library is missing or unusable
  kInvalidArgument, // options the runtime refuses
  kUnsupported,     // a configuration this runtime build cannot run (e.g. a delegate refusing a graph)
};

struct Error {
  ErrorKind kind;
  std::string message;
  std::string runtimeMessage;  // the runtime's own words, when it gave any
};

// Thrown inside the native code only; the binding catches every one and converts it.
class AuditException {
 public:
  explicit AuditException(Error error) : error_(std::move(error)) {}
  AuditException(ErrorKind kind, std::string message, std::string runtimeMessage = {})
      : error_{kind, std::move(message), std::move(runtimeMessage)} {}
  const Error& error() const { return error_; }

 private:
  Error error_;
};

struct TensorInfo {
  std::string name;
  DType dtype = DType::kUnsupported;
  std::string runtimeType;            // the runtime's own name for the type, kept for unsupported ones
  std::vector<int64_t> shape;         // -1 for a dynamic dimension
  std::vector<std::string> dimNames;  // symbolic names where the model has them, else ""
};

// A tensor view over memory the caller owns and keeps alive.
struct TensorView {
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  size_t byteLength;
};

// An output copied out of the runtime.
struct OutputTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

struct SessionOptions {
  int intraOpThreads = 0;       // 0: the runtime's default
  int interOpThreads = 0;       // ONNX Runtime only; > 1 selects parallel execution
  int graphOptimizationLevel = 99;  // ONNX Runtime: 0 none, 1 basic, 2 extended, 99 all
  bool xnnpack = false;         // TFLite: add the XNNPack delegate
  bool cpuMemArena = true;      // ONNX Runtime
  bool memPattern = true;       // ONNX Runtime
  bool allowSpinning = true;    // ONNX Runtime intra-op workers spin while waiting
  std::string intraOpAffinity;  // ONNX Runtime session.intra_op_thread_affinities, "" for none
  bool countAllocations = true; // not a runtime option: whether the binding counts the library's allocations
  bool denormalAsZero = false;  // ONNX Runtime session.set_denormal_as_zero; the threads that call Run flush too
  std::string profilePrefix;    // ONNX Runtime: profile every run into <prefix>_<time>.json ("" for none)
  // Not a runtime option: a run() made alone runs on the JS thread when the session's typical run
  // takes at most this long (ThreadTask::RunHereMaxNs); 0 never.
  int64_t jsThreadRunMaxNs = 250'000;
};

// Inputs bound once so that `Invoke()` is the runtime call alone: this is what the
// measurement loop times.
class PreparedRun {
 public:
  virtual ~PreparedRun() = default;
  // Puts this run's inputs in place when another run of the same session had its own there
  // (outside any timed region). Returns false on failure; `LastError()` then says why.
  virtual bool Bind() = 0;
  // The runtime call and nothing else. Returns false on failure; `LastError()` then says why.
  virtual bool Invoke() = 0;
  // Drops per-call results (outside the timed region).
  virtual void ReleaseOutputs() = 0;
  virtual std::vector<OutputTensor> TakeOutputs() = 0;
  virtual Error LastError() const = 0;
};

class Session {
 public:
  virtual ~Session() = default;
  virtual const std::vector<TensorInfo>& Inputs() const = 0;
  virtual const std::vector<TensorInfo>& Outputs() const = 0;
  // Binds inputs (in model input order). The views must outlive the returned object.
  virtual std::unique_ptr<PreparedRun> Prepare(const std::vector<TensorView>& inputs) = 0;
  virtual std::vector<OutputTensor> Run(const std::vector<TensorView>& inputs) = 0;
  // Whether two threads may run this session at once (ONNX Runtime: yes; a TFLite interpreter: no).
  virtual bool SupportsConcurrentRuns() const = 0;
  // Ends the runtime's profiling of a session opened with `profilePrefix` and returns the file it
  // wrote. Throws kUnsupported where the runtime has no profiler.
  virtual std::string EndProfiling() {
    throw AuditException(ErrorKind::kUnsupported, "this runtime has no profiler");
  }
  // Turns off (and on) the checks of inputs the runtime would die on (TFLite: tflite_shape_guard.h),
  // for the abnormal-input step, which reports what the runtime itself does with them.
  virtual void SetInputGuard(bool /*on*/) {}
  // Test hook: has the runtime allocate `bytes` with its own allocator, inside its library, and
  // never free them: a leak the allocation counters must see as the runtime's. Returns false
  // where the runtime offers no such call.
  virtual bool LeakInsideForTest(size_t /*bytes*/) { return false; }
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual const char* Name() const = 0;
  virtual std::string Version() const = 0;
  virtual std::string ApiVersion() const = 0;
  virtual std::string LibraryPath() const = 0;
  // The dlopen handle, for the allocation counters.
  virtual void* LibraryHandle() const = 0;
  // The bytes are copied when the runtime needs them kept alive. `afterModelLoad` is called
  // between loading the model and building the session, where the runtime has two such steps.
  virtual std::unique_ptr<Session> Open(const uint8_t* bytes, size_t size, const SessionOptions& options,
                                        const std::function<void()>& afterModelLoad = {}) = 0;
};

// Returns the runtime for a library path, opening it once per process.
std::shared_ptr<Runtime> LoadOnnxRuntime(const std::string& libraryPath);
std::shared_ptr<Runtime> LoadTfLiteRuntime(const std::string& libraryPath);

}  // namespace model_audit
