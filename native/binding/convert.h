// Typed readers that copy JS values into plain C++ structs before any work starts, and writers
// for results. The TypeScript side validates first and gives every field: a missing one is a bug
// there, and these readers say which, rather than falling back to a default of their own.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "../measure/alloc_counters.h"
#include "../runtime/runtime.h"

namespace model_audit {

// An input whose bytes were copied out of JS, so the work thread never touches JS memory.
struct OwnedTensor {
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  TensorView View() const { return TensorView{dtype, shape, bytes.data(), bytes.size()}; }
};

// Throws a TypeError: "Expected <expected> for <what>".
[[noreturn]] void ThrowType(Napi::Env env, const std::string& what, const std::string& expected);
DType ParseDType(Napi::Env env, const std::string& name, const std::string& what);
SessionOptions ReadSessionOptions(Napi::Env env, Napi::Value value);
// `{ dtype, shape }` at `what` (a feed, or an input of a binding): a dtype name and an array of numbers.
void ReadDTypeAndShape(Napi::Env env, Napi::Object object, const std::string& what, DType* dtype, std::vector<int64_t>* shape);
std::vector<OwnedTensor> ReadFeeds(Napi::Env env, Napi::Value value, const std::string& what = "feeds");
// An array of feed sets, each an array of feeds in model input order; at least one set.
std::vector<std::vector<OwnedTensor>> ReadFeedSets(Napi::Env env, Napi::Value value);
std::vector<TensorView> Views(const std::vector<OwnedTensor>& tensors);

Napi::Array TensorInfosToJs(Napi::Env env, const std::vector<TensorInfo>& infos);
Napi::Array OutputsToJs(Napi::Env env, std::vector<OutputTensor>& outputs);
Napi::Array ShapeToJs(Napi::Env env, const std::vector<int64_t>& shape);

// Each throws a TypeError naming the key when it is missing or of the wrong type.
int32_t ReadInt(Napi::Object object, const char* key);
int64_t ReadInt64(Napi::Object object, const char* key);
double ReadDouble(Napi::Object object, const char* key);
bool ReadBool(Napi::Object object, const char* key);
std::string ReadString(Napi::Object object, const char* key);
std::vector<int> ReadIntArray(Napi::Object object, const char* key);
Napi::Object RequireObject(Napi::Env env, Napi::Value value, const char* what);

Napi::Object SnapshotToJs(Napi::Env env, const AllocSnapshot& snapshot);
// A phase's allocation figures: { measured, start, end }.
Napi::Object PhaseMemoryToJs(Napi::Env env, const PhaseMemory& phase);

}  // namespace model_audit
