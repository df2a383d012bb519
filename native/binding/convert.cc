#include "convert.h"

#include <cstring>

namespace model_audit {

namespace {

const DType kAllDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kFloat64, DType::kInt8, DType::kUint8,
                            DType::kInt16,   DType::kInt32,   DType::kInt64,   DType::kBool};

[[noreturn]] void ThrowType(Napi::Env env, const std::string& what, const std::string& expected) {
  throw Napi::TypeError::New(env, "Expected " + expected + " for " + what);
}

}  // namespace

DType ParseDType(Napi::Env env, const std::string& name, const std::string& what) {
  for (DType dtype : kAllDTypes) {
    if (name == DTypeName(dtype)) return dtype;
  }
  ThrowType(env, what, "a supported dtype name but received '" + name + "'");
}

int32_t ReadInt(Napi::Object object, const char* key, int32_t fallback) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber()) ThrowType(object.Env(), key, "a number");
  return value.As<Napi::Number>().Int32Value();
}

int64_t ReadInt64(Napi::Object object, const char* key, int64_t fallback) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber()) ThrowType(object.Env(), key, "a number");
  return value.As<Napi::Number>().Int64Value();
}

double ReadDouble(Napi::Object object, const char* key, double fallback) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber()) ThrowType(object.Env(), key, "a number");
  return value.As<Napi::Number>().DoubleValue();
}

std::vector<int> ReadIntArray(Napi::Object object, const char* key) {
  std::vector<int> values;
  Napi::Value value = object.Get(key);
  if (value.IsUndefined() || value.IsNull()) return values;
  if (!value.IsArray()) ThrowType(object.Env(), key, "an array");
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) values.push_back(array.Get(i).As<Napi::Number>().Int32Value());
  return values;
}

Napi::Object RequireObject(Napi::Env env, Napi::Value value, const char* what) {
  if (!value.IsObject()) ThrowType(env, what, "an object");
  return value.As<Napi::Object>();
}

bool ReadBool(Napi::Object object, const char* key, bool fallback) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsBoolean()) ThrowType(object.Env(), key, "a boolean");
  return value.As<Napi::Boolean>().Value();
}

std::string ReadString(Napi::Object object, const char* key, const std::string& fallback) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsString()) ThrowType(object.Env(), key, "a string");
  return value.As<Napi::String>().Utf8Value();
}

SessionOptions ReadSessionOptions(Napi::Env env, Napi::Value value) {
  SessionOptions options;
  if (value.IsUndefined()) return options;
  if (!value.IsObject()) ThrowType(env, "options", "an object");
  Napi::Object object = value.As<Napi::Object>();
  options.intraOpThreads = ReadInt(object, "intraOpThreads", options.intraOpThreads);
  options.interOpThreads = ReadInt(object, "interOpThreads", options.interOpThreads);
  options.graphOptimizationLevel = ReadInt(object, "graphOptimizationLevel", options.graphOptimizationLevel);
  options.xnnpack = ReadBool(object, "xnnpack", options.xnnpack);
  options.cpuMemArena = ReadBool(object, "cpuMemArena", options.cpuMemArena);
  options.memPattern = ReadBool(object, "memPattern", options.memPattern);
  options.allowSpinning = ReadBool(object, "allowSpinning", options.allowSpinning);
  options.intraOpAffinity = ReadString(object, "intraOpAffinity", options.intraOpAffinity);
  options.countAllocations = ReadBool(object, "countAllocations", options.countAllocations);
  return options;
}

std::vector<OwnedTensor> ReadFeeds(Napi::Env env, Napi::Value value) {
  if (!value.IsArray()) ThrowType(env, "feeds", "an array");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<OwnedTensor> tensors;
  tensors.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const std::string what = "feeds[" + std::to_string(i) + "]";
    Napi::Value item = array.Get(i);
    if (!item.IsObject()) ThrowType(env, what, "an object");
    Napi::Object feed = item.As<Napi::Object>();
    OwnedTensor tensor;
    tensor.dtype = ParseDType(env, ReadString(feed, "dtype", ""), what + ".dtype");
    Napi::Value shape = feed.Get("shape");
    if (!shape.IsArray()) ThrowType(env, what + ".shape", "an array");
    Napi::Array dims = shape.As<Napi::Array>();
    for (uint32_t d = 0; d < dims.Length(); ++d) {
      Napi::Value dim = dims.Get(d);
      if (!dim.IsNumber()) ThrowType(env, what + ".shape", "numbers");
      tensor.shape.push_back(dim.As<Napi::Number>().Int64Value());
    }
    Napi::Value data = feed.Get("data");
    if (!data.IsTypedArray()) ThrowType(env, what + ".data", "a typed array");
    Napi::TypedArray typed = data.As<Napi::TypedArray>();
    const size_t byteLength = typed.ByteLength();
    const auto* start = static_cast<const uint8_t*>(typed.ArrayBuffer().Data()) + typed.ByteOffset();
    tensor.bytes.assign(start, start + byteLength);
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

std::vector<TensorView> Views(const std::vector<OwnedTensor>& tensors) {
  std::vector<TensorView> views;
  views.reserve(tensors.size());
  for (const OwnedTensor& tensor : tensors) views.push_back(tensor.View());
  return views;
}

Napi::Array ShapeToJs(Napi::Env env, const std::vector<int64_t>& shape) {
  Napi::Array array = Napi::Array::New(env, shape.size());
  for (size_t i = 0; i < shape.size(); ++i) array.Set(static_cast<uint32_t>(i), static_cast<double>(shape[i]));
  return array;
}

Napi::Array TensorInfosToJs(Napi::Env env, const std::vector<TensorInfo>& infos) {
  Napi::Array array = Napi::Array::New(env, infos.size());
  for (size_t i = 0; i < infos.size(); ++i) {
    const TensorInfo& info = infos[i];
    Napi::Object object = Napi::Object::New(env);
    object.Set("name", info.name);
    object.Set("dtype", DTypeName(info.dtype));
    object.Set("runtimeType", info.runtimeType);
    object.Set("shape", ShapeToJs(env, info.shape));
    Napi::Array names = Napi::Array::New(env, info.dimNames.size());
    for (size_t d = 0; d < info.dimNames.size(); ++d) names.Set(static_cast<uint32_t>(d), info.dimNames[d]);
    object.Set("dimNames", names);
    array.Set(static_cast<uint32_t>(i), object);
  }
  return array;
}

Napi::Array OutputsToJs(Napi::Env env, const std::vector<OutputTensor>& outputs) {
  Napi::Array array = Napi::Array::New(env, outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const OutputTensor& out = outputs[i];
    Napi::Object object = Napi::Object::New(env);
    object.Set("name", out.name);
    object.Set("dtype", DTypeName(out.dtype));
    object.Set("shape", ShapeToJs(env, out.shape));
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, out.bytes.size());
    if (!out.bytes.empty()) std::memcpy(buffer.Data(), out.bytes.data(), out.bytes.size());
    object.Set("buffer", buffer);
    array.Set(static_cast<uint32_t>(i), object);
  }
  return array;
}

}  // namespace model_audit
