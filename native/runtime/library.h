// dlopen with errors that name the file, and typed symbol lookup.
#pragma once

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

}  // namespace model_audit
