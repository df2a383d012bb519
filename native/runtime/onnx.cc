// ONNX Runtime through its C API, the library opened with dlopen from a path given at run time.
#include <onnxruntime_c_api.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "library.h"
#include "runtime.h"

namespace model_audit {
namespace {

DType FromOrtType(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return DType::kFloat32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return DType::kFloat16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return DType::kFloat64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return DType::kInt8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return DType::kUint8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16: return DType::kInt16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return DType::kInt32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return DType::kInt64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return DType::kBool;
    default: return DType::kUnsupported;
  }
}

ONNXTensorElementDataType ToOrtType(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case DType::kFloat16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case DType::kFloat64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
    case DType::kInt8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
    case DType::kUint8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case DType::kInt16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16;
    case DType::kInt32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case DType::kInt64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    case DType::kBool: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
    case DType::kUnsupported: break;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

const char* OrtTypeName(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING: return "string";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16: return "uint16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32: return "uint32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64: return "uint64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return "bfloat16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX64: return "complex64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX128: return "complex128";
    default: return DTypeName(FromOrtType(type));
  }
}

class OrtRuntime;

// Turns an OrtStatus into an error (and releases it); nullptr status means success.
class StatusChecker {
 public:
  explicit StatusChecker(const OrtApi* api) : api_(api) {}
  void operator()(OrtStatus* status, ErrorKind kind, const std::string& context) const {
    if (status == nullptr) return;
    std::string message = api_->GetErrorMessage(status);
    api_->ReleaseStatus(status);
    throw AuditException(kind, context + ": " + message, message);
  }

 private:
  const OrtApi* api_;
};

struct OrtValueDeleter {
  const OrtApi* api;
  void operator()(OrtValue* value) const {
    if (value != nullptr) api->ReleaseValue(value);
  }
};

class OrtSessionImpl;

class OrtPreparedRun final : public PreparedRun {
 public:
  OrtPreparedRun(const OrtApi* api, OrtSession* session, const std::vector<const char*>& inputNames,
                 const std::vector<const char*>& outputNames, std::vector<OrtValue*> inputs)
      : api_(api),
        session_(session),
        inputNames_(inputNames),
        outputNames_(outputNames),
        inputs_(std::move(inputs)),
        outputs_(outputNames.size(), nullptr) {}

  ~OrtPreparedRun() override {
    ReleaseOutputs();
    for (OrtValue* value : inputs_) api_->ReleaseValue(value);
    if (lastStatus_ != nullptr) api_->ReleaseStatus(lastStatus_);
  }

  // Each prepared run owns OrtValues over its own set's bytes: there is nothing to move.
  bool Bind() override { return true; }

  bool Invoke() override {
    lastStatus_ = api_->Run(session_, nullptr, inputNames_.data(), inputs_.data(), inputs_.size(),
                            outputNames_.data(), outputNames_.size(), outputs_.data());
    return lastStatus_ == nullptr;
  }

  void ReleaseOutputs() override {
    for (OrtValue*& value : outputs_) {
      if (value != nullptr) api_->ReleaseValue(value);
      value = nullptr;
    }
  }

  Error LastError() const override {
    if (lastStatus_ == nullptr) return Error{ErrorKind::kRuntime, "no error", ""};
    std::string message = api_->GetErrorMessage(lastStatus_);
    return Error{ErrorKind::kRuntime, "ONNX Runtime Run failed: " + message, message};
  }

  std::vector<OutputTensor> TakeOutputs() override {
    StatusChecker check(api_);
    std::vector<OutputTensor> result;
    result.reserve(outputs_.size());
    for (size_t i = 0; i < outputs_.size(); ++i) {
      OutputTensor out;
      out.name = outputNames_[i];
      OrtValue* value = outputs_[i];
      int isTensor = 0;
      check(api_->IsTensor(value, &isTensor), ErrorKind::kRuntime, "output " + out.name);
      if (!isTensor) throw AuditException(ErrorKind::kRuntime, "output " + out.name + " is not a tensor");
      OrtTensorTypeAndShapeInfo* info = nullptr;
      check(api_->GetTensorTypeAndShape(value, &info), ErrorKind::kRuntime, "output " + out.name);
      ONNXTensorElementDataType type;
      size_t rank = 0;
      OrtStatus* status = api_->GetTensorElementType(info, &type);
      if (status == nullptr) status = api_->GetDimensionsCount(info, &rank);
      out.shape.resize(rank);
      if (status == nullptr) status = api_->GetDimensions(info, out.shape.data(), rank);
      api_->ReleaseTensorTypeAndShapeInfo(info);
      check(status, ErrorKind::kRuntime, "output " + out.name);
      out.dtype = FromOrtType(type);
      if (out.dtype == DType::kUnsupported) {
        throw AuditException(ErrorKind::kRuntime, "output " + out.name + " has dtype " + OrtTypeName(type) +
                                                      ", which model-audit cannot return");
      }
      size_t count = 1;
      for (int64_t d : out.shape) count *= static_cast<size_t>(d);
      out.bytes.resize(count * DTypeSize(out.dtype));
      if (count > 0) {
        void* data = nullptr;
        check(api_->GetTensorMutableData(value, &data), ErrorKind::kRuntime, "output " + out.name);
        std::memcpy(out.bytes.data(), data, out.bytes.size());
      }
      result.push_back(std::move(out));
    }
    ReleaseOutputs();
    return result;
  }

 private:
  const OrtApi* api_;
  OrtSession* session_;
  const std::vector<const char*>& inputNames_;
  const std::vector<const char*>& outputNames_;
  std::vector<OrtValue*> inputs_;
  std::vector<OrtValue*> outputs_;
  OrtStatus* lastStatus_ = nullptr;
};

class OrtSessionImpl final : public Session {
 public:
  OrtSessionImpl(std::shared_ptr<OrtRuntime> runtime, const OrtApi* api, OrtEnv* env, const uint8_t* bytes, size_t size,
                 const SessionOptions& options);
  ~OrtSessionImpl() override {
    if (session_ != nullptr) api_->ReleaseSession(session_);
    if (memoryInfo_ != nullptr) api_->ReleaseMemoryInfo(memoryInfo_);
  }

  const std::vector<TensorInfo>& Inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& Outputs() const override { return outputs_; }

  std::unique_ptr<PreparedRun> Prepare(const std::vector<TensorView>& views) override {
    if (views.size() != inputs_.size()) {
      throw AuditException(ErrorKind::kFeed, "expected " + std::to_string(inputs_.size()) + " inputs, got " +
                                                 std::to_string(views.size()));
    }
    StatusChecker check(api_);
    std::vector<OrtValue*> values;
    values.reserve(views.size());
    try {
      static uint8_t emptyTensorData[8];
      for (size_t i = 0; i < views.size(); ++i) {
        const TensorView& view = views[i];
        void* data = view.byteLength == 0 ? emptyTensorData : const_cast<void*>(view.data);
        OrtValue* value = nullptr;
        check(api_->CreateTensorWithDataAsOrtValue(memoryInfo_, data, view.byteLength, view.shape.data(),
                                                   view.shape.size(), ToOrtType(view.dtype), &value),
              ErrorKind::kFeed, "input " + inputs_[i].name);
        values.push_back(value);
      }
    } catch (...) {
      for (OrtValue* value : values) api_->ReleaseValue(value);
      throw;
    }
    return std::make_unique<OrtPreparedRun>(api_, session_, inputNames_, outputNames_, std::move(values));
  }

  std::vector<OutputTensor> Run(const std::vector<TensorView>& views) override {
    std::unique_ptr<PreparedRun> run = Prepare(views);
    if (!run->Invoke()) throw AuditException(run->LastError());
    return run->TakeOutputs();
  }

  bool SupportsConcurrentRuns() const override { return true; }

  std::string EndProfiling() override {
    StatusChecker check(api_);
    OrtAllocator* allocator = nullptr;
    check(api_->GetAllocatorWithDefaultOptions(&allocator), ErrorKind::kRuntime, "default allocator");
    char* file = nullptr;
    check(api_->SessionEndProfiling(session_, allocator, &file), ErrorKind::kRuntime, "cannot end ONNX Runtime's profiling");
    std::string path = file != nullptr ? file : "";
    if (file != nullptr) allocator->Free(allocator, file);
    return path;
  }

  // A uint8 tensor of `bytes` from ONNX Runtime's default CPU allocator (posix_memalign inside the
  // library), never released.
  bool LeakInsideForTest(size_t bytes) override {
    OrtAllocator* allocator = nullptr;
    OrtStatus* status = api_->GetAllocatorWithDefaultOptions(&allocator);
    const int64_t shape[1] = {static_cast<int64_t>(bytes)};
    OrtValue* value = nullptr;
    if (status == nullptr) status = api_->CreateTensorAsOrtValue(allocator, shape, 1, ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, &value);
    if (status != nullptr) {
      api_->ReleaseStatus(status);
      return false;
    }
    return true;
  }

 private:
  void Describe(bool isInput);

  std::shared_ptr<OrtRuntime> runtime_;  // keeps the environment alive as long as the session
  const OrtApi* api_;
  OrtSession* session_ = nullptr;
  OrtMemoryInfo* memoryInfo_ = nullptr;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  std::vector<const char*> inputNames_;
  std::vector<const char*> outputNames_;
};

class OrtRuntime final : public Runtime, public std::enable_shared_from_this<OrtRuntime> {
 public:
  explicit OrtRuntime(const std::string& path) : library_(path) {
    using GetApiBaseFn = const OrtApiBase* (*)();
    auto getApiBase = library_.RequireAs<GetApiBaseFn>("OrtGetApiBase");
    const OrtApiBase* base = getApiBase();
    version_ = base->GetVersionString();
    api_ = base->GetApi(ORT_API_VERSION);
    if (api_ == nullptr) {
      throw AuditException(ErrorKind::kLibrary, "ONNX Runtime " + version_ + " at " + path +
                                                    " does not provide C API version " +
                                                    std::to_string(ORT_API_VERSION) + " (needs 1.21 or newer)");
    }
    StatusChecker check(api_);
    // Errors come back as OrtStatus with the runtime's message; its own log would repeat them on stderr.
    check(api_->CreateEnv(ORT_LOGGING_LEVEL_FATAL, "model-audit", &env_), ErrorKind::kLibrary,
          "cannot create the ONNX Runtime environment");
    // ONNX Runtime's telemetry allocates on its own threads, in bursts whose spacing doubles, which
    // a soak would read as memory growth and a benchmark as allocations. The JS side sets
    // ORT_DISABLE_TELEMETRY=1 (which the library reads) unless the user set it; the events are
    // switched off here as well.
    const char* disable = std::getenv("ORT_DISABLE_TELEMETRY");
    if (disable != nullptr && std::string(disable) != "0") {
      check(api_->DisableTelemetryEvents(env_), ErrorKind::kLibrary, "cannot disable ONNX Runtime's telemetry events");
    }
  }
  // The environment is process-wide state inside the library; it is kept for the process.

  const char* Name() const override { return "onnxruntime"; }
  std::string Version() const override { return version_; }
  std::string ApiVersion() const override { return std::to_string(ORT_API_VERSION); }
  std::string LibraryPath() const override { return library_.path(); }

  void* LibraryHandle() const override { return library_.handle(); }
  // ONNX Runtime loads and builds a session in one call: there is no separate load step to mark.
  std::unique_ptr<Session> Open(const uint8_t* bytes, size_t size, const SessionOptions& options,
                                const std::function<void()>& /*afterModelLoad*/) override {
    return std::make_unique<OrtSessionImpl>(shared_from_this(), api_, env_, bytes, size, options);
  }

 private:
  SharedLibrary library_;
  std::string version_;
  const OrtApi* api_ = nullptr;
  OrtEnv* env_ = nullptr;
};

OrtSessionImpl::OrtSessionImpl(std::shared_ptr<OrtRuntime> runtime, const OrtApi* api, OrtEnv* env,
                               const uint8_t* bytes, size_t size, const SessionOptions& options)
    : runtime_(std::move(runtime)), api_(api) {
  StatusChecker check(api_);
  OrtSessionOptions* sessionOptions = nullptr;
  check(api_->CreateSessionOptions(&sessionOptions), ErrorKind::kRuntime, "cannot create session options");
  auto release = [&]() { api_->ReleaseSessionOptions(sessionOptions); };
  try {
    auto configure = [&](OrtStatus* status, const std::string& what) { check(status, ErrorKind::kInvalidArgument, what); };
    if (options.intraOpThreads > 0) configure(api_->SetIntraOpNumThreads(sessionOptions, options.intraOpThreads), "intraOpThreads");
    if (options.interOpThreads > 0) {
      configure(api_->SetInterOpNumThreads(sessionOptions, options.interOpThreads), "interOpThreads");
      if (options.interOpThreads > 1) configure(api_->SetSessionExecutionMode(sessionOptions, ORT_PARALLEL), "executionMode");
    }
    configure(api_->SetSessionGraphOptimizationLevel(sessionOptions,
                                                     static_cast<GraphOptimizationLevel>(options.graphOptimizationLevel)),
              "graphOptimizationLevel");
    configure(options.cpuMemArena ? api_->EnableCpuMemArena(sessionOptions) : api_->DisableCpuMemArena(sessionOptions),
              "cpuMemArena");
    configure(options.memPattern ? api_->EnableMemPattern(sessionOptions) : api_->DisableMemPattern(sessionOptions),
              "memPattern");
    configure(api_->AddSessionConfigEntry(sessionOptions, "session.intra_op.allow_spinning", options.allowSpinning ? "1" : "0"),
              "allowSpinning");
    if (options.denormalAsZero) {
      configure(api_->AddSessionConfigEntry(sessionOptions, "session.set_denormal_as_zero", "1"), "denormalAsZero");
    }
    if (!options.profilePrefix.empty()) {
      configure(api_->EnableProfiling(sessionOptions, options.profilePrefix.c_str()), "profiling");
    }
    if (!options.intraOpAffinity.empty()) {
      configure(api_->AddSessionConfigEntry(sessionOptions, "session.intra_op_thread_affinities", options.intraOpAffinity.c_str()),
                "intraOpAffinity");
    }
    check(api_->CreateSessionFromArray(env, bytes, size, sessionOptions, &session_), ErrorKind::kCorruptModel,
          "ONNX Runtime cannot load the model");
    release();
  } catch (...) {
    release();
    if (session_ != nullptr) api_->ReleaseSession(session_);
    session_ = nullptr;
    throw;
  }
  try {
    check(api_->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &memoryInfo_), ErrorKind::kRuntime,
          "cannot create CPU memory info");
    Describe(true);
    Describe(false);
  } catch (...) {
    api_->ReleaseSession(session_);
    session_ = nullptr;
    if (memoryInfo_ != nullptr) api_->ReleaseMemoryInfo(memoryInfo_);
    memoryInfo_ = nullptr;
    throw;
  }
  for (const TensorInfo& info : inputs_) inputNames_.push_back(info.name.c_str());
  for (const TensorInfo& info : outputs_) outputNames_.push_back(info.name.c_str());
}

void OrtSessionImpl::Describe(bool isInput) {
  StatusChecker check(api_);
  OrtAllocator* allocator = nullptr;
  check(api_->GetAllocatorWithDefaultOptions(&allocator), ErrorKind::kRuntime, "default allocator");
  size_t count = 0;
  check(isInput ? api_->SessionGetInputCount(session_, &count) : api_->SessionGetOutputCount(session_, &count),
        ErrorKind::kCorruptModel, "cannot count the model's tensors");
  std::vector<TensorInfo>& target = isInput ? inputs_ : outputs_;
  for (size_t i = 0; i < count; ++i) {
    TensorInfo info;
    char* name = nullptr;
    check(isInput ? api_->SessionGetInputName(session_, i, allocator, &name)
                  : api_->SessionGetOutputName(session_, i, allocator, &name),
          ErrorKind::kCorruptModel, "cannot read a tensor name");
    info.name = name;
    allocator->Free(allocator, name);
    OrtTypeInfo* typeInfo = nullptr;
    check(isInput ? api_->SessionGetInputTypeInfo(session_, i, &typeInfo)
                  : api_->SessionGetOutputTypeInfo(session_, i, &typeInfo),
          ErrorKind::kCorruptModel, "tensor " + info.name);
    ONNXType onnxType = ONNX_TYPE_UNKNOWN;
    OrtStatus* status = api_->GetOnnxTypeFromTypeInfo(typeInfo, &onnxType);
    if (status == nullptr && onnxType == ONNX_TYPE_TENSOR) {
      const OrtTensorTypeAndShapeInfo* tensorInfo = nullptr;
      status = api_->CastTypeInfoToTensorInfo(typeInfo, &tensorInfo);
      ONNXTensorElementDataType elementType = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
      size_t rank = 0;
      if (status == nullptr) status = api_->GetTensorElementType(tensorInfo, &elementType);
      if (status == nullptr) status = api_->GetDimensionsCount(tensorInfo, &rank);
      info.shape.resize(rank);
      std::vector<const char*> symbolic(rank, nullptr);
      if (status == nullptr) status = api_->GetDimensions(tensorInfo, info.shape.data(), rank);
      if (status == nullptr) status = api_->GetSymbolicDimensions(tensorInfo, symbolic.data(), rank);
      info.dtype = FromOrtType(elementType);
      info.runtimeType = OrtTypeName(elementType);
      for (size_t d = 0; d < rank; ++d) {
        info.dimNames.emplace_back(symbolic[d] != nullptr ? symbolic[d] : "");
        if (info.shape[d] < 0) info.shape[d] = -1;
      }
    } else if (status == nullptr) {
      info.runtimeType = onnxType == ONNX_TYPE_SEQUENCE ? "sequence" : onnxType == ONNX_TYPE_MAP ? "map" : "non-tensor";
    }
    api_->ReleaseTypeInfo(typeInfo);
    check(status, ErrorKind::kCorruptModel, "tensor " + info.name);
    target.push_back(std::move(info));
  }
}

}  // namespace

std::shared_ptr<Runtime> LoadOnnxRuntime(const std::string& libraryPath) {
  return LoadOncePerPath<OrtRuntime, Runtime>(libraryPath);
}

}  // namespace model_audit
