#include "library.h"

#include <dlfcn.h>

#include "runtime.h"

namespace model_audit {

SharedLibrary::SharedLibrary(const std::string& path) : path_(path) {
  // RTLD_NOW: an unresolved symbol fails here, with a message, not later inside a run.
  handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    const char* why = dlerror();
    throw AuditException(ErrorKind::kLibrary, "cannot load runtime library " + path + ": " + (why ? why : "unknown error"));
  }
}

SharedLibrary::~SharedLibrary() {
  // Runtimes keep process-wide state (thread pools, registries) that does not survive being
  // unloaded, so a library once opened stays mapped.
}

void* SharedLibrary::Optional(const char* symbol) const { return dlsym(handle_, symbol); }

void* SharedLibrary::Require(const char* symbol) const {
  void* address = dlsym(handle_, symbol);
  if (address == nullptr) {
    throw AuditException(ErrorKind::kLibrary, std::string("runtime library ") + path_ + " does not export " + symbol);
  }
  return address;
}

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kFloat16: return "float16";
    case DType::kFloat64: return "float64";
    case DType::kInt8: return "int8";
    case DType::kUint8: return "uint8";
    case DType::kInt16: return "int16";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kBool: return "bool";
    case DType::kUnsupported: break;
  }
  return "unsupported";
}

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kFloat64:
    case DType::kInt64: return 8;
    case DType::kFloat32:
    case DType::kInt32: return 4;
    case DType::kFloat16:
    case DType::kInt16: return 2;
    case DType::kInt8:
    case DType::kUint8:
    case DType::kBool: return 1;
    case DType::kUnsupported: break;
  }
  return 0;
}

}  // namespace model_audit
