// Reference latency loop for TensorFlow Lite: the plainest C++ that times one model through the C API.
//
//   tflite_loop --lib libtensorflowlite_c.so --model model.tflite --cpu 1 --iterations 20000 [--warmup 200]
//
// One interpreter thread, no delegate, the single float32 input filled with sin(i * 0.37). Each
// sample is two CLOCK_MONOTONIC_RAW reads around TfLiteInterpreterInvoke alone. Prints one JSON line.
#include <tensorflow/lite/c/c_api.h>

#include <fstream>
#include <iterator>

#include "common.h"

namespace {

const char* kUsage =
    "usage: tflite_loop --lib PATH --model PATH [--cpu N] [--iterations N] [--warmup N] [--samples-out FILE] [--inputs FILE]";

// The entry points used, resolved from the library with the header's own signatures.
struct Api {
  decltype(&TfLiteVersion) version;
  decltype(&TfLiteModelCreate) modelCreate;
  decltype(&TfLiteModelDelete) modelDelete;
  decltype(&TfLiteInterpreterOptionsCreate) optionsCreate;
  decltype(&TfLiteInterpreterOptionsSetNumThreads) optionsSetNumThreads;
  decltype(&TfLiteInterpreterOptionsDelete) optionsDelete;
  decltype(&TfLiteInterpreterCreate) interpreterCreate;
  decltype(&TfLiteInterpreterDelete) interpreterDelete;
  decltype(&TfLiteInterpreterAllocateTensors) allocateTensors;
  decltype(&TfLiteInterpreterGetInputTensorCount) inputCount;
  decltype(&TfLiteInterpreterGetInputTensor) inputTensor;
  decltype(&TfLiteInterpreterGetOutputTensorCount) outputCount;
  decltype(&TfLiteInterpreterGetOutputTensor) outputTensor;
  decltype(&TfLiteInterpreterInvoke) invoke;
  decltype(&TfLiteTensorType) tensorType;
  decltype(&TfLiteTensorByteSize) tensorByteSize;
  decltype(&TfLiteTensorData) tensorData;
  decltype(&TfLiteTensorCopyFromBuffer) copyFromBuffer;
};

Api Resolve(void* library) {
  Api api;
  api.version = refloop::Symbol<decltype(api.version)>(library, "TfLiteVersion");
  api.modelCreate = refloop::Symbol<decltype(api.modelCreate)>(library, "TfLiteModelCreate");
  api.modelDelete = refloop::Symbol<decltype(api.modelDelete)>(library, "TfLiteModelDelete");
  api.optionsCreate = refloop::Symbol<decltype(api.optionsCreate)>(library, "TfLiteInterpreterOptionsCreate");
  api.optionsSetNumThreads =
      refloop::Symbol<decltype(api.optionsSetNumThreads)>(library, "TfLiteInterpreterOptionsSetNumThreads");
  api.optionsDelete = refloop::Symbol<decltype(api.optionsDelete)>(library, "TfLiteInterpreterOptionsDelete");
  api.interpreterCreate = refloop::Symbol<decltype(api.interpreterCreate)>(library, "TfLiteInterpreterCreate");
  api.interpreterDelete = refloop::Symbol<decltype(api.interpreterDelete)>(library, "TfLiteInterpreterDelete");
  api.allocateTensors = refloop::Symbol<decltype(api.allocateTensors)>(library, "TfLiteInterpreterAllocateTensors");
  api.inputCount = refloop::Symbol<decltype(api.inputCount)>(library, "TfLiteInterpreterGetInputTensorCount");
  api.inputTensor = refloop::Symbol<decltype(api.inputTensor)>(library, "TfLiteInterpreterGetInputTensor");
  api.outputCount = refloop::Symbol<decltype(api.outputCount)>(library, "TfLiteInterpreterGetOutputTensorCount");
  api.outputTensor = refloop::Symbol<decltype(api.outputTensor)>(library, "TfLiteInterpreterGetOutputTensor");
  api.invoke = refloop::Symbol<decltype(api.invoke)>(library, "TfLiteInterpreterInvoke");
  api.tensorType = refloop::Symbol<decltype(api.tensorType)>(library, "TfLiteTensorType");
  api.tensorByteSize = refloop::Symbol<decltype(api.tensorByteSize)>(library, "TfLiteTensorByteSize");
  api.tensorData = refloop::Symbol<decltype(api.tensorData)>(library, "TfLiteTensorData");
  api.copyFromBuffer = refloop::Symbol<decltype(api.copyFromBuffer)>(library, "TfLiteTensorCopyFromBuffer");
  return api;
}

}  // namespace

int main(int argc, char** argv) {
  const refloop::Args args = refloop::ParseArgs(argc, argv, kUsage);
  // Pin first: the library is loaded, the interpreter built and every run made on this one thread.
  refloop::PinTo(args.cpu);

  void* library = refloop::OpenLibrary(args.lib);
  const Api api = Resolve(library);

  // TFLite reads the flatbuffer in place, so the bytes live until the model is deleted.
  std::ifstream file(args.model, std::ios::binary);
  if (!file) refloop::Die("cannot open " + args.model);
  std::vector<char> modelBytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  TfLiteModel* model = api.modelCreate(modelBytes.data(), modelBytes.size());
  if (model == nullptr) refloop::Die("TfLiteModelCreate failed for " + args.model);

  TfLiteInterpreterOptions* options = api.optionsCreate();
  api.optionsSetNumThreads(options, 1);
  TfLiteInterpreter* interpreter = api.interpreterCreate(model, options);
  if (interpreter == nullptr) refloop::Die("TfLiteInterpreterCreate failed");
  if (api.allocateTensors(interpreter) != kTfLiteOk) refloop::Die("TfLiteInterpreterAllocateTensors failed");

  if (api.inputCount(interpreter) != 1) refloop::Die("expected one input");
  TfLiteTensor* inputTensor = api.inputTensor(interpreter, 0);
  if (api.tensorType(inputTensor) != kTfLiteFloat32) refloop::Die("the input is not float32");
  const size_t bytes = api.tensorByteSize(inputTensor);
  const size_t elements = bytes / sizeof(float);
  std::vector<std::vector<float>> samplesIn = refloop::LoadInputs(args.inputs, elements);
  const size_t setCount = samplesIn.size();
  // With several samples, each run's sample is copied in before its first clock read, untimed.
  auto load = [&](long i) {
    if (api.copyFromBuffer(inputTensor, samplesIn[static_cast<size_t>(i) % setCount].data(), bytes) != kTfLiteOk) {
      refloop::Die("TfLiteTensorCopyFromBuffer failed");
    }
  };
  load(0);

  refloop::Report report;
  report.runtime = "tflite";
  report.version = api.version();
  report.lib = args.lib;
  report.model = args.model;
  report.cpu = args.cpu;
  report.warmup = args.warmup;
  report.inputElements = elements;
  report.inputHash = refloop::Fnv1a64(samplesIn[0].data(), bytes);

  for (long i = 0; i < args.warmup; ++i) {
    if (setCount > 1) load(i);
    if (api.invoke(interpreter) != kTfLiteOk) refloop::Die("TfLiteInterpreterInvoke failed");
  }

  std::vector<int64_t> samples(static_cast<size_t>(args.iterations), 0);
  for (long i = 0; i < args.iterations; ++i) {
    if (setCount > 1) load(i);
    const int64_t t0 = refloop::MonoRawNs();
    const TfLiteStatus status = api.invoke(interpreter);
    const int64_t t1 = refloop::MonoRawNs();
    samples[static_cast<size_t>(i)] = t1 - t0;
    if (status != kTfLiteOk) refloop::Die("TfLiteInterpreterInvoke failed");
  }
  report.cpuAtEnd = sched_getcpu();

  if (api.outputCount(interpreter) > 0) {
    const TfLiteTensor* out = api.outputTensor(interpreter, 0);
    if (api.tensorType(out) == kTfLiteFloat32) {
      const float* values = static_cast<const float*>(api.tensorData(out));
      const size_t n = api.tensorByteSize(out) / sizeof(float);
      for (size_t i = 0; i < std::min<size_t>(n, 8); ++i) report.output.push_back(values[i]);
    }
  }

  refloop::PrintResult(report, std::move(samples), args.samplesOut);

  api.interpreterDelete(interpreter);
  api.optionsDelete(options);
  api.modelDelete(model);
  return 0;
}
