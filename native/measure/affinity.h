// CPU pinning of the calling thread, and what the scheduler actually did to it.
#pragma once

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace model_audit {

// Pins the calling thread to one CPU. Returns an empty string on success, else why not.
std::string PinCurrentThread(int cpu);

// Names the calling thread (at most 15 characters are kept), so that `top -H`, `perf` and
// /proc/<pid>/task/*/comm tell the addon's threads from Node's own.
void NameCurrentThread(const char* name);

// Names a thread from the thread that started it, so that the name is set before the starter goes
// on: a thread that names itself is seen under its starter's name until it has run that far.
void NameThread(std::thread& thread, const char* name);

// The CPU the calling thread runs on now (-1 when unknown).
int CurrentCpu();

// Scheduler counters of the calling thread, read before and after a loop.
struct ThreadCounters {
  int64_t voluntarySwitches = 0;
  int64_t involuntarySwitches = 0;
  int64_t migrations = -1;  // -1: the kernel does not expose it
};

// Counts migrations of the calling thread with a software perf event when the kernel allows it.
class MigrationCounter {
 public:
  MigrationCounter();
  ~MigrationCounter();
  MigrationCounter(const MigrationCounter&) = delete;
  MigrationCounter& operator=(const MigrationCounter&) = delete;
  bool available() const { return fd_ >= 0; }
  int64_t Read() const;  // -1 when unavailable

 private:
  int fd_ = -1;
};

ThreadCounters ReadThreadCounters(const MigrationCounter& migrations);

// Records the set of CPUs seen and how often the CPU changed between two observations.
class CpuTrail {
 public:
  void Observe() {
    int cpu = CurrentCpu();
    if (cpu < 0) return;
    if (static_cast<size_t>(cpu) >= seen_.size()) seen_.resize(cpu + 1, false);
    seen_[cpu] = true;
    if (last_ >= 0 && cpu != last_) ++changes_;
    last_ = cpu;
  }
  std::vector<int> Cpus() const {
    std::vector<int> cpus;
    for (size_t i = 0; i < seen_.size(); ++i) {
      if (seen_[i]) cpus.push_back(static_cast<int>(i));
    }
    return cpus;
  }
  int64_t changes() const { return changes_; }
  void Reserve(int cpus) { seen_.reserve(cpus); }

 private:
  std::vector<bool> seen_;
  int last_ = -1;
  int64_t changes_ = 0;
};

}  // namespace model_audit
