// dlopen with errors that name the file, and typed symbol lookup.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace model_audit {

class SharedLibrary {
 public:
  explicit SharedLibrary(const std::string& path);
  ~SharedLibrary();
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  const std::string& path() const { return path_; }
  void* handle() const { return handle_; }
  // Throws a kLibrary AuditException naming the symbol and the file when it is absent.
  void* Require(const char* symbol) const;
  void* Optional(const char* symbol) const;

  template <typename Fn>
  Fn RequireAs(const char* symbol) const {
    return reinterpret_cast<Fn>(Require(symbol));
  }
  template <typename Fn>
  Fn OptionalAs(const char* symbol) const {
    return reinterpret_cast<Fn>(Optional(symbol));
  }

 private:
  std::string path_;
  void* handle_ = nullptr;
};

// One instance of T per library path for the whole process: a runtime library, once opened and
// initialised, is shared by every session that names the same file.
template <typename T, typename Base>
std::shared_ptr<Base> LoadOncePerPath(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<Base>> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  auto found = loaded.find(path);
  if (found != loaded.end()) return found->second;
  std::shared_ptr<Base> runtime = std::make_shared<T>(path);
  loaded.emplace(path, runtime);
  return runtime;
}

}  // namespace model_audit
