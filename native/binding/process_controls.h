// Entry points a child process uses to constrain itself, and the test-only crash trigger.
#pragma once

#include <napi.h>

namespace model_audit {

// pinProcess(cpus: number[]) -> "" or why not
Napi::Value PinProcessEntry(const Napi::CallbackInfo& info);
// limitAddressSpace(extraBytes) -> { limitBytes, baseBytes, error }
Napi::Value LimitAddressSpaceEntry(const Napi::CallbackInfo& info);
// crashForTest('segv' | 'abort'): only when MODEL_AUDIT_TEST_HOOKS=1, so that tests can prove
// that a crash in a child is contained; otherwise it throws.
Napi::Value CrashForTestEntry(const Napi::CallbackInfo& info);

}  // namespace model_audit
