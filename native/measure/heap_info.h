// What the process's glibc heap says (mallinfo2), beside the runtime's own counters as a
// cross-check: it mixes every allocator user in the process.
#pragma once

#include <cstdint>

namespace model_audit {

struct HeapInfo {
  int64_t arenaBytes;    // non-mmapped space allocated from the system
  int64_t inUseBytes;    // uordblks + hblkhd: large blocks live in hblkhd
  int64_t mmappedBytes;  // hblkhd
  int64_t freeBytes;     // fordblks
  bool available;
};

HeapInfo ReadHeapInfo();

}  // namespace model_audit
