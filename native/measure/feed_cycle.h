// Which feed set each inference runs: the sets in order, or a seeded shuffle of them each cycle.
// Moving to the next set happens here, outside any timed region: ONNX Runtime has one prepared
// binding per set and nothing to do; TFLite copies the set's bytes into its input tensors.
#pragma once

#include <cstdint>
#include <vector>

#include "../runtime/runtime.h"

namespace model_audit {

class FeedCycle {
 public:
  // `runs` holds one prepared run per feed set, all of one session. `shuffle` draws a new
  // permutation of the sets for every cycle from `seed`; otherwise the sets go in order.
  FeedCycle(std::vector<PreparedRun*> runs, bool shuffle, uint64_t seed, bool flushDenormals = false);

  // The run of the next inference, its inputs in place; nullptr when binding failed (the run
  // that failed is then `failed()`). `set` receives the feed set's index.
  PreparedRun* Next(uint32_t* set);
  // The run of feed set `set`, its inputs in place (open loops take sets by request number).
  PreparedRun* Bound(uint32_t set);

  size_t size() const { return runs_.size(); }
  // Whether the session asks the threads that run it to flush denormals.
  bool flushDenormals() const { return flushDenormals_; }
  PreparedRun* failed() const { return failed_; }

 private:
  void Reshuffle();

  std::vector<PreparedRun*> runs_;
  std::vector<uint32_t> order_;
  size_t position_ = 0;
  PreparedRun* bound_ = nullptr;
  PreparedRun* failed_ = nullptr;
  bool shuffle_;
  uint64_t state_;
  bool flushDenormals_;
};

}  // namespace model_audit
