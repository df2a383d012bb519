// Typed readers that copy JS values into plain C++ structs before any work starts, and writers
// for results. The TypeScript side validates first; these checks are the last line.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "../runtime/runtime.h"

namespace model_audit {

// An input whose bytes were copied out of JS, so the work thread never touches JS memory.
struct OwnedTensor {
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  TensorView View() const { return TensorView{dtype, shape, bytes.data(), bytes.size()}; }
};

DType ParseDType(Napi::Env env, const std::string& name, const std::string& what);
SessionOptions ReadSessionOptions(Napi::Env env, Napi::Value value);
std::vector<OwnedTensor> ReadFeeds(Napi::Env env, Napi::Value value);
std::vector<TensorView> Views(const std::vector<OwnedTensor>& tensors);

Napi::Array TensorInfosToJs(Napi::Env env, const std::vector<TensorInfo>& infos);
Napi::Array OutputsToJs(Napi::Env env, const std::vector<OutputTensor>& outputs);
Napi::Array ShapeToJs(Napi::Env env, const std::vector<int64_t>& shape);

int32_t ReadInt(Napi::Object object, const char* key, int32_t fallback);
int64_t ReadInt64(Napi::Object object, const char* key, int64_t fallback);
double ReadDouble(Napi::Object object, const char* key, double fallback);
std::vector<int> ReadIntArray(Napi::Object object, const char* key);
Napi::Object RequireObject(Napi::Env env, Napi::Value value, const char* what);
bool ReadBool(Napi::Object object, const char* key, bool fallback);
std::string ReadString(Napi::Object object, const char* key, const std::string& fallback);

}  // namespace model_audit
