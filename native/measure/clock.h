// The clock every measurement uses: CLOCK_MONOTONIC_RAW, in nanoseconds, never slewed by NTP.
#pragma once

#include <time.h>

#include <cstdint>

namespace model_audit {

inline int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

struct ClockInfo {
  int64_t resolutionNs;   // what clock_getres reports
  double readCostNs;      // median cost of one NowNs() call, measured
  int64_t smallestStepNs; // the smallest non-zero difference seen between two reads
};

// Measures the clock's cost and granularity (takes a few milliseconds).
ClockInfo MeasureClock();

}  // namespace model_audit
