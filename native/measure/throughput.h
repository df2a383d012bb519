// Throughput: several sessions driven at once, closed loop (each stream back to back) or open
// loop (requests arriving on a schedule, latency counted from the arrival, queueing included).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../runtime/runtime.h"
#include "feed_cycle.h"

namespace model_audit {

struct StreamResult {
  std::vector<int64_t> samplesNs;
  std::vector<int> cpus;
  std::string pinError;
  bool failed = false;
  Error error{ErrorKind::kRuntime, "", ""};
};

struct ClosedLoopResult {
  std::vector<StreamResult> streams;
  int64_t wallNs = 0;  // from the common start to the last stream's end
};

// Every stream runs `warmupIterations`, then all start together and run back to back until
// `durationNs` has passed, each cycling through its own session's feed sets. cpus[i] pins
// stream i (-1: not pinned).
ClosedLoopResult RunClosedLoop(const std::vector<FeedCycle*>& streams, const std::vector<int>& cpus, int64_t durationNs,
                               int64_t warmupIterations, int64_t maxSamplesPerStream);

struct OpenLoopResult {
  std::vector<int64_t> latencyNs;  // completion minus scheduled arrival; -1 when never served
  std::vector<int64_t> serviceNs;  // the runtime call alone; -1 when never served
  int64_t completed = 0;
  int64_t wallNs = 0;
  std::vector<std::string> pinErrors;
  bool failed = false;
  Error error{ErrorKind::kRuntime, "", ""};
};

// Requests arrive at start + arrivalsNs[i] (ascending); request i runs feed set i mod the number
// of sets. Each worker owns one session and takes the oldest waiting request when it is free.
// Requests not started by the end of the schedule plus `graceNs` are abandoned.
OpenLoopResult RunOpenLoop(const std::vector<FeedCycle*>& workers, const std::vector<int>& cpus,
                           const std::vector<int64_t>& arrivalsNs, int64_t graceNs, int64_t warmupIterations);

}  // namespace model_audit
