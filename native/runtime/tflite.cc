// TensorFlow Lite through its C API, the library opened with dlopen from a path given at run time.
//
// The C API does not bounds-check tensor indices and copies inputs by byte size alone, so every
// index and dtype is checked here before the runtime sees it.
#include <tensorflow/lite/c/c_api.h>
#include <tensorflow/lite/c/common.h>  // TfLiteTensor layout, for dims_signature

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "library.h"
#include "runtime.h"
#include "tflite_kernel_timer.h"
#include "tflite_shape_guard.h"

// Exported by the packaged library but declared in a header it does not ship. Passing nullptr
// asks for the default options.
struct TfLiteXNNPackDelegateOptions;
using XnnpackCreateFn = TfLiteDelegate* (*)(const TfLiteXNNPackDelegateOptions*);
using XnnpackDeleteFn = void (*)(TfLiteDelegate*);

namespace model_audit {
namespace {

DType FromTfLiteType(TfLiteType type) {
  switch (type) {
    case kTfLiteFloat32: return DType::kFloat32;
    case kTfLiteFloat16: return DType::kFloat16;
    case kTfLiteFloat64: return DType::kFloat64;
    case kTfLiteInt8: return DType::kInt8;
    case kTfLiteUInt8: return DType::kUint8;
    case kTfLiteInt16: return DType::kInt16;
    case kTfLiteInt32: return DType::kInt32;
    case kTfLiteInt64: return DType::kInt64;
    case kTfLiteBool: return DType::kBool;
    default: return DType::kUnsupported;
  }
}

std::string TfLiteTypeName(TfLiteType type) {
  switch (type) {
    case kTfLiteString: return "string";
    case kTfLiteComplex64: return "complex64";
    case kTfLiteComplex128: return "complex128";
    case kTfLiteUInt64: return "uint64";
    case kTfLiteUInt32: return "uint32";
    case kTfLiteResource: return "resource";
    case kTfLiteVariant: return "variant";
    case kTfLiteNoType: return "notype";
    default: return DTypeName(FromTfLiteType(type));
  }
}

#define MODEL_AUDIT_TFLITE_FUNCTIONS(X)  \
  X(TfLiteVersion)                       \
  X(TfLiteModelCreate)                   \
  X(TfLiteModelDelete)                   \
  X(TfLiteInterpreterOptionsCreate)      \
  X(TfLiteInterpreterOptionsDelete)      \
  X(TfLiteInterpreterOptionsSetNumThreads) \
  X(TfLiteInterpreterOptionsAddDelegate) \
  X(TfLiteInterpreterOptionsSetErrorReporter) \
  X(TfLiteInterpreterCreate)             \
  X(TfLiteInterpreterDelete)             \
  X(TfLiteInterpreterGetInputTensorCount) \
  X(TfLiteInterpreterGetInputTensor)     \
  X(TfLiteInterpreterResizeInputTensor)  \
  X(TfLiteInterpreterAllocateTensors)    \
  X(TfLiteInterpreterInvoke)             \
  X(TfLiteInterpreterGetOutputTensorCount) \
  X(TfLiteInterpreterGetOutputTensor)    \
  X(TfLiteTensorType)                    \
  X(TfLiteTensorNumDims)                 \
  X(TfLiteTensorDim)                     \
  X(TfLiteTensorByteSize)                \
  X(TfLiteTensorData)                    \
  X(TfLiteTensorName)                    \
  X(TfLiteTensorCopyFromBuffer)

struct TfLiteApi {
#define MODEL_AUDIT_DECLARE(name) decltype(&::name) name = nullptr;
  MODEL_AUDIT_TFLITE_FUNCTIONS(MODEL_AUDIT_DECLARE)
#undef MODEL_AUDIT_DECLARE
  XnnpackCreateFn XNNPackDelegateCreate = nullptr;
  XnnpackDeleteFn XNNPackDelegateDelete = nullptr;
};

// Collects what the runtime reports through its error reporter, so errors carry its own words.
struct ErrorCollector {
  std::string text;
  static void Report(void* self, const char* format, va_list args) {
    char buffer[1024];
    std::vsnprintf(buffer, sizeof(buffer), format, args);
    std::string line(buffer);
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    auto* collector = static_cast<ErrorCollector*>(self);
    if (!collector->text.empty()) collector->text += "; ";
    collector->text += line;
  }
  std::string Take() {
    std::string out;
    out.swap(text);
    return out;
  }
};

class TfLiteRuntimeImpl;

class TfLiteSessionImpl;

// A run over one feed set. The interpreter has one set of input tensors: binding copies this run's
// bytes into them (resizing first when the shapes differ), so that several runs can take turns.
class TfLitePreparedRun : public PreparedRun {
 public:
  TfLitePreparedRun(TfLiteSessionImpl* session, std::vector<TensorView> views) : session_(session), views_(std::move(views)) {}
  ~TfLitePreparedRun() override;
  bool Bind() override;
  bool Invoke() override;
  void ReleaseOutputs() override {}
  std::vector<OutputTensor> TakeOutputs() override;
  Error LastError() const override;

  const std::vector<TensorView>& views() const { return views_; }

 protected:
  TfLiteSessionImpl* session_;

 private:
  std::vector<TensorView> views_;
  TfLiteStatus lastStatus_ = kTfLiteOk;
  std::string bindError_;
};

class TfLiteSessionImpl final : public Session {
 public:
  TfLiteSessionImpl(std::shared_ptr<TfLiteRuntimeImpl> runtime, const TfLiteApi& api, const uint8_t* bytes, size_t size,
                    const SessionOptions& options, const std::function<void()>& afterModelLoad);
  ~TfLiteSessionImpl() override { Release(); }

  const std::vector<TensorInfo>& Inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& Outputs() const override { return outputs_; }
  std::unique_ptr<PreparedRun> Prepare(const std::vector<TensorView>& views) override;
  std::vector<OutputTensor> Run(const std::vector<TensorView>& views) override {
    std::unique_ptr<PreparedRun> run = Prepare(views);
    if (!run->Invoke()) throw AuditException(run->LastError());
    return run->TakeOutputs();
  }
  bool SupportsConcurrentRuns() const override { return false; }
  std::string EndProfiling() override;
  void SetInputGuard(bool on) override { guardOn_ = on; }

  TfLiteInterpreter* interpreter() const { return interpreter_; }
  const TfLiteApi& api() const { return api_; }
  ErrorCollector& errors() { return errors_; }
  KernelTimer* profiler() const { return profiler_.get(); }

  // Resizes (when needed), allocates and copies `views` into the input tensors. Throws
  // AuditException; the run whose inputs are now in place becomes the bound one.
  void LoadInputs(const std::vector<TensorView>& views, const TfLitePreparedRun* run);
  const TfLitePreparedRun* bound() const { return bound_; }
  void Unbind(const TfLitePreparedRun* run) {
    if (bound_ == run) bound_ = nullptr;
  }

 private:
  void Release() {
    if (interpreter_ != nullptr) api_.TfLiteInterpreterDelete(interpreter_);
    // After the interpreter, whose nodes call the timer until it is deleted.
    profiler_.reset();
    guard_.reset();
    if (delegate_ != nullptr && api_.XNNPackDelegateDelete != nullptr) api_.XNNPackDelegateDelete(delegate_);
    if (options_ != nullptr) api_.TfLiteInterpreterOptionsDelete(options_);
    if (model_ != nullptr) api_.TfLiteModelDelete(model_);
    interpreter_ = nullptr;
    delegate_ = nullptr;
    options_ = nullptr;
    model_ = nullptr;
  }
  TfLiteInterpreter* CreateInterpreter(const SessionOptions& options, bool withDelegate);
  // Why TFLite could not build or allocate the model: the kernel timer's own reason when it refused.
  [[noreturn]] void ThrowBuildFailure(ErrorKind kind, const std::string& message, const std::string& runtimeMessage);
  TensorInfo DescribeTensor(const TfLiteTensor* tensor) const;

  std::shared_ptr<TfLiteRuntimeImpl> runtime_;
  const TfLiteApi& api_;
  std::vector<uint8_t> modelBytes_;  // TFLite reads the flatbuffer in place: it must outlive the model
  ErrorCollector errors_;
  TfLiteModel* model_ = nullptr;
  TfLiteInterpreterOptions* options_ = nullptr;
  TfLiteDelegate* delegate_ = nullptr;
  TfLiteInterpreter* interpreter_ = nullptr;
  std::unique_ptr<KernelTimer> profiler_;  // when opened with profilePrefix
  std::unique_ptr<ShapeGuard> guard_;      // for TFLite 2.9, whose structures it reads
  bool guarded_ = false;
  bool guardOn_ = true;
  std::string profilePath_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  bool allocated_ = false;
  const TfLitePreparedRun* bound_ = nullptr;
};

// A run of a session opened for profiling: the whole Invoke is recorded beside the timed nodes.
class TfLiteProfiledRun final : public TfLitePreparedRun {
 public:
  using TfLitePreparedRun::TfLitePreparedRun;
  bool Invoke() override {
    return session_->profiler()->TimeRun([this] { return TfLitePreparedRun::Invoke(); });
  }
};

class TfLiteRuntimeImpl final : public Runtime, public std::enable_shared_from_this<TfLiteRuntimeImpl> {
 public:
  explicit TfLiteRuntimeImpl(const std::string& path) : library_(path) {
#define MODEL_AUDIT_RESOLVE(name) api_.name = library_.RequireAs<decltype(&::name)>(#name);
    MODEL_AUDIT_TFLITE_FUNCTIONS(MODEL_AUDIT_RESOLVE)
#undef MODEL_AUDIT_RESOLVE
    api_.XNNPackDelegateCreate = library_.OptionalAs<XnnpackCreateFn>("TfLiteXNNPackDelegateCreate");
    api_.XNNPackDelegateDelete = library_.OptionalAs<XnnpackDeleteFn>("TfLiteXNNPackDelegateDelete");
    version_ = api_.TfLiteVersion();
  }

  const char* Name() const override { return "tflite"; }
  std::string Version() const override { return version_; }
  // The C API carries no version number of its own; the headers built against are TFLite 2.9's.
  std::string ApiVersion() const override { return "tensorflow/lite/c/c_api.h (2.9)"; }
  std::string LibraryPath() const override { return library_.path(); }
  bool HasXnnpack() const { return api_.XNNPackDelegateCreate != nullptr; }

  void* LibraryHandle() const override { return library_.handle(); }
  std::unique_ptr<Session> Open(const uint8_t* bytes, size_t size, const SessionOptions& options,
                                const std::function<void()>& afterModelLoad) override {
    return std::make_unique<TfLiteSessionImpl>(shared_from_this(), api_, bytes, size, options, afterModelLoad);
  }

 private:
  SharedLibrary library_;
  TfLiteApi api_;
  std::string version_;
};

TfLiteInterpreter* TfLiteSessionImpl::CreateInterpreter(const SessionOptions& options, bool withDelegate) {
  options_ = api_.TfLiteInterpreterOptionsCreate();
  if (options.intraOpThreads > 0) api_.TfLiteInterpreterOptionsSetNumThreads(options_, options.intraOpThreads);
  api_.TfLiteInterpreterOptionsSetErrorReporter(options_, &ErrorCollector::Report, &errors_);
  if (withDelegate) {
    delegate_ = api_.XNNPackDelegateCreate(nullptr);
    if (delegate_ == nullptr) {
      throw AuditException(ErrorKind::kUnsupported, "the XNNPack delegate could not be created");
    }
    api_.TfLiteInterpreterOptionsAddDelegate(options_, delegate_);
  }
  if (profiler_ != nullptr) api_.TfLiteInterpreterOptionsAddDelegate(options_, profiler_->delegate());
  if (guarded_) {
    guard_ = std::make_unique<ShapeGuard>();  // last: it keeps the nodes the other delegates leave
    api_.TfLiteInterpreterOptionsAddDelegate(options_, guard_->delegate());
  }
  return api_.TfLiteInterpreterCreate(model_, options_);
}

TfLiteSessionImpl::TfLiteSessionImpl(std::shared_ptr<TfLiteRuntimeImpl> runtime, const TfLiteApi& api,
                                     const uint8_t* bytes, size_t size, const SessionOptions& options,
                                     const std::function<void()>& afterModelLoad)
    : runtime_(std::move(runtime)), api_(api), modelBytes_(bytes, bytes + size) {
  if (options.denormalAsZero) {
    throw AuditException(ErrorKind::kUnsupported,
                         "denormalAsZero: the TFLite C API has no switch for flushing denormals (ONNX Runtime only)");
  }
  if (options.xnnpack && !runtime_->HasXnnpack()) {
    throw AuditException(ErrorKind::kUnsupported,
                         "the TFLite library at " + runtime_->LibraryPath() + " does not export TfLiteXNNPackDelegateCreate");
  }
  if (!options.profilePrefix.empty()) {
    // Per-node times come from a delegate of our own that times TFLite's kernels: see tflite_kernel_timer.h.
    if (options.xnnpack) {
      throw AuditException(ErrorKind::kUnsupported, "the XNNPack delegate hides the nodes it runs: per-node times need xnnpack: false");
    }
    const std::string version = runtime_->Version();
    if (version.rfind("2.9.", 0) != 0) {
      throw AuditException(ErrorKind::kUnsupported,
                           "per-operator times for TFLite come from a delegate built on TFLite 2.9's structures "
                           "(TfLiteContext, TfLiteNode, TfLiteRegistration, TfLiteTensor); the library at " +
                               runtime_->LibraryPath() + " is TFLite " + version);
    }
    profiler_ = std::make_unique<KernelTimer>();
    profilePath_ = options.profilePrefix + "_tflite_kernels.json";
  }
  guarded_ = runtime_->Version().rfind("2.9.", 0) == 0;
  model_ = api_.TfLiteModelCreate(modelBytes_.data(), modelBytes_.size());
  if (model_ == nullptr) {
    throw AuditException(ErrorKind::kCorruptModel,
                         "TFLite rejected the model: the flatbuffer failed verification or has no subgraph");
  }
  if (afterModelLoad) afterModelLoad();
  interpreter_ = CreateInterpreter(options, options.xnnpack);
  if (interpreter_ == nullptr) {
    std::string runtimeMessage = errors_.Take();
    if (options.xnnpack) {
      // Tell a graph the delegate refuses apart from a model TFLite cannot run at all.
      if (delegate_ != nullptr) api_.XNNPackDelegateDelete(delegate_);
      delegate_ = nullptr;
      api_.TfLiteInterpreterOptionsDelete(options_);
      options_ = nullptr;
      TfLiteInterpreter* plain = CreateInterpreter(options, false);
      if (plain != nullptr) {
        api_.TfLiteInterpreterDelete(plain);
        Release();
        throw AuditException(ErrorKind::kUnsupported,
                             "TFLite cannot build this model with the XNNPack delegate (it runs without it; open it "
                             "with xnnpack: false)" + (runtimeMessage.empty() ? std::string() : ": " + runtimeMessage),
                             runtimeMessage);
      }
    }
    ThrowBuildFailure(ErrorKind::kCorruptModel,
                      "TFLite cannot build an interpreter for the model" +
                          (runtimeMessage.empty() ? std::string() : ": " + runtimeMessage),
                      runtimeMessage);
  }
  const int32_t inputCount = api_.TfLiteInterpreterGetInputTensorCount(interpreter_);
  for (int32_t i = 0; i < inputCount; ++i) inputs_.push_back(DescribeTensor(api_.TfLiteInterpreterGetInputTensor(interpreter_, i)));
  const int32_t outputCount = api_.TfLiteInterpreterGetOutputTensorCount(interpreter_);
  for (int32_t i = 0; i < outputCount; ++i) outputs_.push_back(DescribeTensor(api_.TfLiteInterpreterGetOutputTensor(interpreter_, i)));
  allocated_ = api_.TfLiteInterpreterAllocateTensors(interpreter_) == kTfLiteOk;
  if (!allocated_) {
    // A model with dynamic input dimensions may not be allocatable until the caller sets them.
    bool dynamic = false;
    for (const TensorInfo& info : inputs_) {
      for (int64_t d : info.shape) dynamic = dynamic || d < 0;
    }
    std::string runtimeMessage = errors_.Take();
    if (!dynamic || (profiler_ != nullptr && !profiler_->problem().empty())) {
      ThrowBuildFailure(ErrorKind::kCorruptModel, "TFLite cannot allocate the model's tensors: " + runtimeMessage,
                        runtimeMessage);
    }
  }
}

void TfLiteSessionImpl::ThrowBuildFailure(ErrorKind kind, const std::string& message, const std::string& runtimeMessage) {
  std::string problem = profiler_ != nullptr ? profiler_->problem() : std::string();
  Release();
  if (!problem.empty()) {
    throw AuditException(ErrorKind::kUnsupported, "per-operator times cannot be had for this model: " + problem,
                         runtimeMessage);
  }
  throw AuditException(kind, message, runtimeMessage);
}

std::string TfLiteSessionImpl::EndProfiling() {
  if (profiler_ == nullptr) throw AuditException(ErrorKind::kUnsupported, "this session was not opened for profiling");
  profiler_->WriteTrace(profilePath_);
  return profilePath_;
}

TensorInfo TfLiteSessionImpl::DescribeTensor(const TfLiteTensor* tensor) const {
  TensorInfo info;
  if (tensor == nullptr) throw AuditException(ErrorKind::kCorruptModel, "TFLite returned no tensor for a model input/output");
  const char* name = api_.TfLiteTensorName(tensor);
  info.name = name != nullptr ? name : "";
  TfLiteType type = api_.TfLiteTensorType(tensor);
  info.dtype = FromTfLiteType(type);
  info.runtimeType = TfLiteTypeName(type);
  const int32_t rank = api_.TfLiteTensorNumDims(tensor);
  // dims_signature keeps -1 where the converter saw a dynamic dimension; dims holds the current size.
  const TfLiteIntArray* signature = tensor->dims_signature;
  const bool useSignature = signature != nullptr && signature->size == rank;
  for (int32_t d = 0; d < rank; ++d) {
    int32_t size = useSignature ? signature->data[d] : api_.TfLiteTensorDim(tensor, d);
    info.shape.push_back(size < 0 ? -1 : size);
    info.dimNames.emplace_back("");
  }
  return info;
}

void TfLiteSessionImpl::LoadInputs(const std::vector<TensorView>& views, const TfLitePreparedRun* run) {
  bound_ = nullptr;
  bool resized = false;
  for (size_t i = 0; i < views.size(); ++i) {
    const TfLiteTensor* tensor = api_.TfLiteInterpreterGetInputTensor(interpreter_, static_cast<int32_t>(i));
    const TensorView& view = views[i];
    const int32_t rank = api_.TfLiteTensorNumDims(tensor);
    bool same = rank == static_cast<int32_t>(view.shape.size());
    for (int32_t d = 0; same && d < rank; ++d) same = api_.TfLiteTensorDim(tensor, d) == view.shape[d];
    if (!same) {
      std::vector<int> dims(view.shape.begin(), view.shape.end());
      if (api_.TfLiteInterpreterResizeInputTensor(interpreter_, static_cast<int32_t>(i), dims.data(),
                                                  static_cast<int32_t>(dims.size())) != kTfLiteOk) {
        std::string runtimeMessage = errors_.Take();
        throw AuditException(ErrorKind::kFeed, "input " + inputs_[i].name + ": TFLite cannot resize it: " + runtimeMessage,
                             runtimeMessage);
      }
      resized = true;
    }
  }
  if (resized || !allocated_) {
    allocated_ = api_.TfLiteInterpreterAllocateTensors(interpreter_) == kTfLiteOk;
    const std::string refused = allocated_ && guard_ != nullptr && guardOn_ ? guard_->Check() : std::string();
    if (!refused.empty()) {
      allocated_ = false;  // so that these shapes are checked again, never run
      std::string shapes;
      for (size_t i = 0; i < views.size(); ++i) {
        shapes += (i > 0 ? ", " : "") + inputs_[i].name + " [";
        for (size_t d = 0; d < views[i].shape.size(); ++d) shapes += (d > 0 ? "," : "") + std::to_string(views[i].shape[d]);
        shapes += "]";
      }
      throw AuditException(ErrorKind::kFeed, "inputs " + shapes + ": " + refused + "; model-audit does not run them");
    }
  }
  if (!allocated_) {
    std::string runtimeMessage = errors_.Take();
    throw AuditException(ErrorKind::kRuntime, "TFLite cannot allocate tensors for the given shapes: " + runtimeMessage,
                         runtimeMessage);
  }
  for (size_t i = 0; i < views.size(); ++i) {
    TfLiteTensor* tensor = api_.TfLiteInterpreterGetInputTensor(interpreter_, static_cast<int32_t>(i));
    const size_t expected = api_.TfLiteTensorByteSize(tensor);
    if (expected != views[i].byteLength) {
      throw AuditException(ErrorKind::kFeed, "input " + inputs_[i].name + ": expected " + std::to_string(expected) +
                                                 " bytes, got " + std::to_string(views[i].byteLength));
    }
    if (expected > 0 && api_.TfLiteTensorCopyFromBuffer(tensor, views[i].data, expected) != kTfLiteOk) {
      std::string runtimeMessage = errors_.Take();
      throw AuditException(ErrorKind::kFeed, "input " + inputs_[i].name + ": " + runtimeMessage, runtimeMessage);
    }
  }
  if (guard_ != nullptr && guardOn_ && guard_->WatchesIndices()) {
    std::vector<const TfLiteTensor*> tensors;
    std::vector<std::string> names;
    for (size_t i = 0; i < views.size(); ++i) {
      tensors.push_back(api_.TfLiteInterpreterGetInputTensor(interpreter_, static_cast<int32_t>(i)));
      names.push_back(inputs_[i].name);
    }
    const std::string refused = guard_->CheckIndices(tensors, names);
    if (!refused.empty()) throw AuditException(ErrorKind::kFeed, refused + "; model-audit does not run it");
  }
  bound_ = run;
}

std::unique_ptr<PreparedRun> TfLiteSessionImpl::Prepare(const std::vector<TensorView>& views) {
  if (views.size() != inputs_.size()) {
    throw AuditException(ErrorKind::kFeed, "expected " + std::to_string(inputs_.size()) + " inputs, got " +
                                               std::to_string(views.size()));
  }
  // TfLiteTensorCopyFromBuffer checks byte counts only: the dtype is checked here.
  for (size_t i = 0; i < views.size(); ++i) {
    if (views[i].dtype != inputs_[i].dtype) {
      throw AuditException(ErrorKind::kFeed, "input " + inputs_[i].name + ": expected dtype " + DTypeName(inputs_[i].dtype) +
                                                 ", got " + DTypeName(views[i].dtype));
    }
  }
  std::unique_ptr<TfLitePreparedRun> run = profiler_ != nullptr ? std::make_unique<TfLiteProfiledRun>(this, views)
                                                                  : std::make_unique<TfLitePreparedRun>(this, views);
  LoadInputs(views, run.get());
  return run;
}

TfLitePreparedRun::~TfLitePreparedRun() { session_->Unbind(this); }

bool TfLitePreparedRun::Bind() {
  if (session_->bound() == this) return true;
  try {
    session_->LoadInputs(views_, this);
    bindError_.clear();
    return true;
  } catch (const AuditException& e) {
    bindError_ = e.error().message;
    lastStatus_ = kTfLiteError;
    return false;
  }
}

bool TfLitePreparedRun::Invoke() {
  lastStatus_ = session_->api().TfLiteInterpreterInvoke(session_->interpreter());
  return lastStatus_ == kTfLiteOk;
}

Error TfLitePreparedRun::LastError() const {
  if (!bindError_.empty()) return Error{ErrorKind::kFeed, bindError_, ""};
  std::string runtimeMessage = session_->errors().Take();
  return Error{ErrorKind::kRuntime,
               "TFLite Invoke failed (status " + std::to_string(static_cast<int>(lastStatus_)) + ")" +
                   (runtimeMessage.empty() ? std::string() : ": " + runtimeMessage),
               runtimeMessage};
}

std::vector<OutputTensor> TfLitePreparedRun::TakeOutputs() {
  const TfLiteApi& api = session_->api();
  TfLiteInterpreter* interpreter = session_->interpreter();
  std::vector<OutputTensor> result;
  const std::vector<TensorInfo>& infos = session_->Outputs();
  for (size_t i = 0; i < infos.size(); ++i) {
    const TfLiteTensor* tensor = api.TfLiteInterpreterGetOutputTensor(interpreter, static_cast<int32_t>(i));
    OutputTensor out;
    out.name = infos[i].name;
    out.dtype = FromTfLiteType(api.TfLiteTensorType(tensor));
    if (out.dtype == DType::kUnsupported) {
      throw AuditException(ErrorKind::kRuntime, "output " + out.name + " has dtype " +
                                                    TfLiteTypeName(api.TfLiteTensorType(tensor)) +
                                                    ", which model-audit cannot return");
    }
    const int32_t rank = api.TfLiteTensorNumDims(tensor);
    for (int32_t d = 0; d < rank; ++d) out.shape.push_back(api.TfLiteTensorDim(tensor, d));
    const size_t bytes = api.TfLiteTensorByteSize(tensor);
    out.bytes.resize(bytes);
    const void* data = api.TfLiteTensorData(tensor);
    if (bytes > 0 && data != nullptr) std::memcpy(out.bytes.data(), data, bytes);
    result.push_back(std::move(out));
  }
  return result;
}

}  // namespace

std::shared_ptr<Runtime> LoadTfLiteRuntime(const std::string& libraryPath) {
  return LoadOncePerPath<TfLiteRuntimeImpl, Runtime>(libraryPath);
}

}  // namespace model_audit
