// Reference latency loop for ONNX Runtime: the plainest C++ that times one model through the C API.
//
//   ort_loop --lib libonnxruntime.so.1 --model model.onnx --cpu 1 --iterations 20000 [--warmup 200] [--inputs FILE]
//
// One intra-op thread, ORT_ENABLE_ALL, the single float32 input filled with sin(i * 0.37) (or the
// samples of --inputs, one OrtValue each, run i taking sample i mod N), outputs allocated by ONNX Runtime. Each sample is two CLOCK_MONOTONIC_RAW reads around api->Run alone;
// the outputs are released after the second read. Prints one JSON line.
#include <onnxruntime_c_api.h>

#include "common.h"

namespace {

const char* kUsage =
    "usage: ort_loop --lib PATH --model PATH [--cpu N] [--iterations N] [--warmup N] [--samples-out FILE] [--inputs FILE]";

const OrtApi* g_api = nullptr;

void Check(OrtStatus* status, const char* what) {
  if (status == nullptr) return;
  std::string message = g_api->GetErrorMessage(status);
  g_api->ReleaseStatus(status);
  refloop::Die(std::string(what) + ": " + message);
}

}  // namespace

int main(int argc, char** argv) {
  const refloop::Args args = refloop::ParseArgs(argc, argv, kUsage);
  // Pin first: the library is loaded, the session built and every run made on this one thread.
  refloop::PinTo(args.cpu);

  void* library = refloop::OpenLibrary(args.lib);
  using GetApiBaseFn = const OrtApiBase* (*)();
  const OrtApiBase* base = refloop::Symbol<GetApiBaseFn>(library, "OrtGetApiBase")();
  g_api = base->GetApi(ORT_API_VERSION);
  if (g_api == nullptr) refloop::Die("the library does not offer C API version " + std::to_string(ORT_API_VERSION));
  const OrtApi& api = *g_api;

  OrtEnv* env = nullptr;
  Check(api.CreateEnv(ORT_LOGGING_LEVEL_WARNING, "ort_loop", &env), "CreateEnv");
  OrtSessionOptions* options = nullptr;
  Check(api.CreateSessionOptions(&options), "CreateSessionOptions");
  Check(api.SetIntraOpNumThreads(options, 1), "SetIntraOpNumThreads");
  Check(api.SetSessionGraphOptimizationLevel(options, ORT_ENABLE_ALL), "SetSessionGraphOptimizationLevel");
  OrtSession* session = nullptr;
  Check(api.CreateSession(env, args.model.c_str(), options, &session), "CreateSession");
  api.ReleaseSessionOptions(options);

  // The model must have exactly one float32 input with a static shape.
  size_t inputCount = 0, outputCount = 0;
  Check(api.SessionGetInputCount(session, &inputCount), "SessionGetInputCount");
  Check(api.SessionGetOutputCount(session, &outputCount), "SessionGetOutputCount");
  if (inputCount != 1) refloop::Die("expected one input, the model has " + std::to_string(inputCount));
  OrtAllocator* allocator = nullptr;
  Check(api.GetAllocatorWithDefaultOptions(&allocator), "GetAllocatorWithDefaultOptions");
  char* inputName = nullptr;
  Check(api.SessionGetInputName(session, 0, allocator, &inputName), "SessionGetInputName");
  std::vector<char*> outputNames(outputCount, nullptr);
  for (size_t i = 0; i < outputCount; ++i) {
    Check(api.SessionGetOutputName(session, i, allocator, &outputNames[i]), "SessionGetOutputName");
  }

  OrtTypeInfo* typeInfo = nullptr;
  Check(api.SessionGetInputTypeInfo(session, 0, &typeInfo), "SessionGetInputTypeInfo");
  const OrtTensorTypeAndShapeInfo* tensorInfo = nullptr;
  Check(api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo), "CastTypeInfoToTensorInfo");
  if (tensorInfo == nullptr) refloop::Die("the input is not a tensor");
  ONNXTensorElementDataType elementType;
  Check(api.GetTensorElementType(tensorInfo, &elementType), "GetTensorElementType");
  if (elementType != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) refloop::Die("the input is not float32");
  size_t rank = 0;
  Check(api.GetDimensionsCount(tensorInfo, &rank), "GetDimensionsCount");
  std::vector<int64_t> shape(rank);
  Check(api.GetDimensions(tensorInfo, shape.data(), rank), "GetDimensions");
  api.ReleaseTypeInfo(typeInfo);
  size_t elements = 1;
  for (int64_t d : shape) {
    if (d < 0) refloop::Die("the input has a dynamic dimension");
    elements *= static_cast<size_t>(d);
  }

  std::vector<std::vector<float>> samplesIn = refloop::LoadInputs(args.inputs, elements);
  OrtMemoryInfo* memoryInfo = nullptr;
  Check(api.CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &memoryInfo), "CreateCpuMemoryInfo");
  std::vector<OrtValue*> inputValues(samplesIn.size(), nullptr);
  for (size_t s = 0; s < samplesIn.size(); ++s) {
    Check(api.CreateTensorWithDataAsOrtValue(memoryInfo, samplesIn[s].data(), elements * sizeof(float), shape.data(), rank,
                                             ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &inputValues[s]),
          "CreateTensorWithDataAsOrtValue");
  }

  const char* inputNames[] = {inputName};
  const size_t setCount = inputValues.size();
  std::vector<OrtValue*> outputs(outputCount, nullptr);
  auto releaseOutputs = [&]() {
    for (OrtValue*& value : outputs) {
      if (value != nullptr) api.ReleaseValue(value);
      value = nullptr;
    }
  };

  refloop::Report report;
  report.runtime = "onnxruntime";
  report.version = base->GetVersionString();
  report.lib = args.lib;
  report.model = args.model;
  report.cpu = args.cpu;
  report.warmup = args.warmup;
  report.inputElements = elements;
  report.inputHash = refloop::Fnv1a64(samplesIn[0].data(), elements * sizeof(float));

  // Warm-up: untimed, same call.
  for (long i = 0; i < args.warmup; ++i) {
    const OrtValue* input = inputValues[static_cast<size_t>(i) % setCount];
    Check(api.Run(session, nullptr, inputNames, &input, 1, outputNames.data(), outputCount, outputs.data()), "Run");
    releaseOutputs();
  }

  // Timed runs. The sample buffer is allocated and touched before the first read.
  std::vector<int64_t> samples(static_cast<size_t>(args.iterations), 0);
  for (long i = 0; i < args.iterations; ++i) {
    const OrtValue* input = inputValues[static_cast<size_t>(i) % setCount];
    const int64_t t0 = refloop::MonoRawNs();
    OrtStatus* status = api.Run(session, nullptr, inputNames, &input, 1, outputNames.data(), outputCount, outputs.data());
    const int64_t t1 = refloop::MonoRawNs();
    samples[static_cast<size_t>(i)] = t1 - t0;
    Check(status, "Run");
    if (i + 1 < args.iterations) releaseOutputs();
  }
  report.cpuAtEnd = sched_getcpu();

  // The last run's first output, so the driver can compare it with the SDK's.
  if (outputCount > 0 && outputs[0] != nullptr) {
    OrtTensorTypeAndShapeInfo* outInfo = nullptr;
    Check(api.GetTensorTypeAndShape(outputs[0], &outInfo), "GetTensorTypeAndShape");
    size_t outElements = 0;
    ONNXTensorElementDataType outType;
    Check(api.GetTensorShapeElementCount(outInfo, &outElements), "GetTensorShapeElementCount");
    Check(api.GetTensorElementType(outInfo, &outType), "GetTensorElementType");
    api.ReleaseTensorTypeAndShapeInfo(outInfo);
    if (outType == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
      void* data = nullptr;
      Check(api.GetTensorMutableData(outputs[0], &data), "GetTensorMutableData");
      const float* values = static_cast<const float*>(data);
      for (size_t i = 0; i < std::min<size_t>(outElements, 8); ++i) report.output.push_back(values[i]);
    }
  }
  releaseOutputs();

  refloop::PrintResult(report, std::move(samples), args.samplesOut);

  for (OrtValue* value : inputValues) api.ReleaseValue(value);
  api.ReleaseMemoryInfo(memoryInfo);
  allocator->Free(allocator, inputName);
  for (char* name : outputNames) allocator->Free(allocator, name);
  api.ReleaseSession(session);
  api.ReleaseEnv(env);
  return 0;
}
