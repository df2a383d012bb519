#include "feed_cycle.h"

#include <utility>

namespace model_audit {

namespace {

// SplitMix64: a seeded generator whose sequence is the same on every machine.
uint64_t NextRandom(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

FeedCycle::FeedCycle(std::vector<PreparedRun*> runs, bool shuffle, uint64_t seed, bool flushDenormals)
    : runs_(std::move(runs)), order_(runs_.size()), shuffle_(shuffle), state_(seed), flushDenormals_(flushDenormals) {
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<uint32_t>(i);
  if (shuffle_) Reshuffle();
}

void FeedCycle::Reshuffle() {
  for (size_t i = order_.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(NextRandom(state_) % i);
    std::swap(order_[i - 1], order_[j]);
  }
}

PreparedRun* FeedCycle::Bound(uint32_t set) {
  PreparedRun* run = runs_[set];
  if (run != bound_) {
    if (!run->Bind()) {
      failed_ = run;
      bound_ = nullptr;
      return nullptr;
    }
    bound_ = run;
  }
  return run;
}

PreparedRun* FeedCycle::Next(uint32_t* set) {
  if (position_ == order_.size()) {
    position_ = 0;
    if (shuffle_) Reshuffle();
  }
  *set = order_[position_++];
  return Bound(*set);
}

}  // namespace model_audit
