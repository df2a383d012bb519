#include "clock.h"

#include <algorithm>
#include <vector>

namespace model_audit {

namespace {
// Written once per batch so that the compiler keeps every clock read of the batch.
volatile int64_t g_sink = 0;
}  // namespace

ClockInfo MeasureClock() {
  ClockInfo info{};
  timespec res;
  clock_getres(CLOCK_MONOTONIC_RAW, &res);
  info.resolutionNs = static_cast<int64_t>(res.tv_sec) * 1000000000LL + res.tv_nsec;

  // Cost of a read: time batches of reads and take the median batch, so one preemption does
  // not decide the figure.
  constexpr int kBatches = 101;
  constexpr int kReadsPerBatch = 1000;
  std::vector<double> perRead(kBatches);
  for (int b = 0; b < kBatches; ++b) {
    int64_t start = NowNs();
    int64_t sink = 0;
    for (int i = 0; i < kReadsPerBatch; ++i) sink += NowNs();
    int64_t end = NowNs();
    g_sink = sink;
    perRead[b] = static_cast<double>(end - start) / kReadsPerBatch;
  }
  std::nth_element(perRead.begin(), perRead.begin() + kBatches / 2, perRead.end());
  info.readCostNs = perRead[kBatches / 2];

  int64_t smallest = INT64_MAX;
  for (int i = 0; i < 100000; ++i) {
    int64_t a = NowNs();
    int64_t b = NowNs();
    while (b == a) b = NowNs();
    smallest = std::min(smallest, b - a);
  }
  info.smallestStepNs = smallest;
  return info;
}

}  // namespace model_audit
