// Process-wide entry points: the constraints a child process puts on itself, glibc's heap
// figures, and the test-only crash trigger.
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
// heapInfo() -> mallinfo2 figures, or null
Napi::Value HeapInfoEntry(const Napi::CallbackInfo& info);

}  // namespace model_audit
