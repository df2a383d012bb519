// Flushing denormals on the calling thread: x86's MXCSR FTZ and DAZ bits, arm64's FPCR FZ bit.
// They are per thread. ONNX Runtime sets them for its own pool threads and the thread that
// created the session when `session.set_denormal_as_zero` is on; the thread that calls Run must
// set them itself, which is what this does for the threads model-audit runs models on.
#pragma once

#include <cstdint>

namespace model_audit {

class DenormalScope {
 public:
  // Flushes denormals (inputs and results) on this thread while the scope lives, when `flush`.
  explicit DenormalScope(bool flush);
  ~DenormalScope();
  DenormalScope(const DenormalScope&) = delete;
  DenormalScope& operator=(const DenormalScope&) = delete;

 private:
  bool active_;
  uint64_t saved_ = 0;
};

}  // namespace model_audit
