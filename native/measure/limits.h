// Constraints a child process puts on itself before running a risky step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace model_audit {

// Pins every thread of the process (and, through inheritance, threads created later) to `cpus`.
// Returns "" on success, else why not.
std::string PinProcess(const std::vector<int>& cpus);

// The process's current address-space size (VmSize), in bytes; -1 when unknown.
int64_t AddressSpaceBytes();

// Sets RLIMIT_AS to `limitBytes`. Returns "" on success, else why not.
std::string LimitAddressSpace(int64_t limitBytes);

}  // namespace model_audit
