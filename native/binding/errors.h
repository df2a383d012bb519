// JS error classes are handed to the addon once at start-up, so native code throws the real
// classes the TypeScript side exports, each with its stable `code`.
#pragma once

#include <napi.h>

#include <functional>
#include <string>

#include "../runtime/runtime.h"

namespace model_audit {

struct ErrorClasses {
  Napi::FunctionReference corruptModel;
  Napi::FunctionReference feed;
  Napi::FunctionReference runtime;
  Napi::FunctionReference library;
  Napi::FunctionReference invalidArgument;
  Napi::FunctionReference unsupported;
  Napi::FunctionReference closed;
  bool ready = false;
};

// Makes (does not throw) a JS error of the class that matches the kind.
Napi::Value MakeJsError(Napi::Env env, const Error& error);
// Sets the classes from an object { CorruptModelError, FeedError, ... }.
void SetErrorClasses(Napi::Env env, Napi::Object classes);

Napi::Value ClosedError(Napi::Env env, const std::string& message);

// The error the exception being handled stands for; call only inside a catch block. Out of
// memory (std::bad_alloc) is said as such; anything else not ours is a RuntimeFailureError.
Error CaughtError();

// Runs `body`, converting every native exception into a thrown JS error of the right class.
// The only way an entry point of this addon is written, so no C++ exception reaches Node.
Napi::Value Guard(Napi::Env env, const std::function<Napi::Value()>& body);

}  // namespace model_audit
