#include "denormals.h"

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace model_audit {

namespace {

#if defined(__x86_64__)
constexpr uint32_t kFlushToZero = 0x8000;     // MXCSR bit 15: results
constexpr uint32_t kDenormalsAreZero = 0x0040;  // MXCSR bit 6: inputs

uint64_t ReadControl() { return _mm_getcsr(); }
void WriteControl(uint64_t value) { _mm_setcsr(static_cast<unsigned int>(value)); }
uint64_t Flushing(uint64_t value) { return value | kFlushToZero | kDenormalsAreZero; }
#elif defined(__aarch64__)
constexpr uint64_t kFlushToZero = 1ULL << 24;  // FPCR.FZ: inputs and results

uint64_t ReadControl() {
  uint64_t value;
  asm volatile("mrs %0, fpcr" : "=r"(value));
  return value;
}
void WriteControl(uint64_t value) { asm volatile("msr fpcr, %0" : : "r"(value)); }
uint64_t Flushing(uint64_t value) { return value | kFlushToZero; }
#else
#error "denormal control supports x86_64 and aarch64"
#endif

}  // namespace

DenormalScope::DenormalScope(bool flush) : active_(flush) {
  if (!active_) return;
  saved_ = ReadControl();
  WriteControl(Flushing(saved_));
}

DenormalScope::~DenormalScope() {
  if (active_) WriteControl(saved_);
}

}  // namespace model_audit
