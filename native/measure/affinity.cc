#include "affinity.h"

#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace model_audit {

std::string PinCurrentThread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return "CPU " + std::to_string(cpu) + " is out of range";
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  if (rc != 0) return "cannot pin to CPU " + std::to_string(cpu) + ": " + std::strerror(rc);
  return "";
}

namespace {
void NamePthread(pthread_t thread, const char* name) {
  char truncated[16];
  std::strncpy(truncated, name, sizeof(truncated) - 1);
  truncated[sizeof(truncated) - 1] = '\0';
  pthread_setname_np(thread, truncated);
}
}  // namespace

void NameCurrentThread(const char* name) { NamePthread(pthread_self(), name); }

void NameThread(std::thread& thread, const char* name) { NamePthread(thread.native_handle(), name); }

int CurrentCpu() { return sched_getcpu(); }

MigrationCounter::MigrationCounter() {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_MIGRATIONS;
  attr.disabled = 0;
  attr.exclude_hv = 1;
  // pid 0 + cpu -1: this thread, on whatever CPU it runs.
  fd_ = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  if (fd_ < 0) {
    // Without perf access (perf_event_paranoid), fall back to excluding the kernel.
    attr.exclude_kernel = 1;
    fd_ = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  }
}

MigrationCounter::~MigrationCounter() {
  if (fd_ >= 0) close(fd_);
}

int64_t MigrationCounter::Read() const {
  if (fd_ < 0) return -1;
  uint64_t value = 0;
  if (read(fd_, &value, sizeof(value)) != static_cast<ssize_t>(sizeof(value))) return -1;
  return static_cast<int64_t>(value);
}

ThreadCounters ReadThreadCounters(const MigrationCounter& migrations) {
  ThreadCounters counters;
  rusage usage;
  if (getrusage(RUSAGE_THREAD, &usage) == 0) {
    counters.voluntarySwitches = usage.ru_nvcsw;
    counters.involuntarySwitches = usage.ru_nivcsw;
  }
  counters.migrations = migrations.Read();
  return counters;
}

}  // namespace model_audit
