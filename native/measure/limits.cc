#include "limits.h"

#include <dirent.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace model_audit {

std::string PinProcess(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return "CPU " + std::to_string(cpu) + " is out of range";
    CPU_SET(cpu, &set);
  }
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return std::string("cannot list /proc/self/task: ") + std::strerror(errno);
  std::string failure;
  while (dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    const pid_t tid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (sched_setaffinity(tid, sizeof(set), &set) != 0 && failure.empty()) {
      failure = "cannot pin thread " + std::to_string(tid) + ": " + std::strerror(errno);
    }
  }
  closedir(tasks);
  return failure;
}

int64_t AddressSpaceBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::atoll(line.c_str() + 7) * 1024;
  }
  return -1;
}

std::string LimitAddressSpace(int64_t limitBytes) {
  rlimit limit;
  limit.rlim_cur = static_cast<rlim_t>(limitBytes);
  limit.rlim_max = static_cast<rlim_t>(limitBytes);
  if (setrlimit(RLIMIT_AS, &limit) != 0) return std::string("setrlimit(RLIMIT_AS) failed: ") + std::strerror(errno);
  return "";
}

}  // namespace model_audit
