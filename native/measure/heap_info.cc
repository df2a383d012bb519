#include "heap_info.h"

#include <malloc.h>

namespace model_audit {

HeapInfo ReadHeapInfo() {
  HeapInfo info{};
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 m = mallinfo2();
  info.arenaBytes = static_cast<int64_t>(m.arena);
  info.mmappedBytes = static_cast<int64_t>(m.hblkhd);
  info.inUseBytes = static_cast<int64_t>(m.uordblks + m.hblkhd);
  info.freeBytes = static_cast<int64_t>(m.fordblks);
  info.available = true;
#else
  info.available = false;
#endif
  return info;
}

}  // namespace model_audit
