#include "errors.h"

#include <exception>

#include "addon.h"

namespace model_audit {

namespace {

Napi::FunctionReference* ClassFor(ErrorClasses& classes, ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kCorruptModel: return &classes.corruptModel;
    case ErrorKind::kFeed: return &classes.feed;
    case ErrorKind::kRuntime: return &classes.runtime;
    case ErrorKind::kLibrary: return &classes.library;
    case ErrorKind::kInvalidArgument: return &classes.invalidArgument;
    case ErrorKind::kUnsupported: return &classes.unsupported;
  }
  return &classes.runtime;
}

Napi::Value Construct(Napi::Env env, Napi::FunctionReference* ctor, const std::string& message,
                      const std::string& runtimeMessage) {
  ErrorClasses& classes = AddonData::From(env).errors;
  if (!classes.ready || ctor == nullptr || ctor->IsEmpty()) return Napi::Error::New(env, message).Value();
  Napi::Object details = Napi::Object::New(env);
  if (!runtimeMessage.empty()) details.Set("runtimeMessage", runtimeMessage);
  return ctor->New({Napi::String::New(env, message), details});
}

}  // namespace

void SetErrorClasses(Napi::Env env, Napi::Object classes) {
  ErrorClasses& target = AddonData::From(env).errors;
  auto take = [&](Napi::FunctionReference& slot, const char* name) {
    Napi::Value value = classes.Get(name);
    if (!value.IsFunction()) {
      throw Napi::TypeError::New(env, std::string("Expected a class for ") + name);
    }
    slot = Napi::Persistent(value.As<Napi::Function>());
  };
  take(target.corruptModel, "CorruptModelError");
  take(target.feed, "FeedError");
  take(target.runtime, "RuntimeFailureError");
  take(target.library, "RuntimeLibraryError");
  take(target.invalidArgument, "OptionsError");
  take(target.unsupported, "UnsupportedConfigurationError");
  take(target.closed, "ClosedModelError");
  target.ready = true;
}

Napi::Value MakeJsError(Napi::Env env, const Error& error) {
  return Construct(env, ClassFor(AddonData::From(env).errors, error.kind), error.message, error.runtimeMessage);
}

Napi::Value ClosedError(Napi::Env env, const std::string& message) {
  return Construct(env, &AddonData::From(env).errors.closed, message, "");
}

Error CaughtError() {
  try {
    throw;
  } catch (const AuditException& e) {
    return e.error();
  } catch (const std::bad_alloc&) {
    return Error{ErrorKind::kRuntime, "out of memory in the native addon: a buffer the call needed could not be allocated", ""};
  } catch (const std::exception& e) {
    return Error{ErrorKind::kRuntime, std::string("native error: ") + e.what(), e.what()};
  } catch (...) {
    return Error{ErrorKind::kRuntime, "unknown native error", ""};
  }
}

Napi::Value Guard(Napi::Env env, const std::function<Napi::Value()>& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;  // already a JS error; node-addon-api hands it to JS
  } catch (...) {
    throw Napi::Error(env, MakeJsError(env, CaughtError()));
  }
}

}  // namespace model_audit
