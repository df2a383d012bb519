// Allocator-level counters for one runtime library: its imports of malloc & co., mmap/munmap
// and the operator new/delete family are rebound in its GOT to counting wrappers that forward
// to the real functions. Only that library's own calls are counted.
#pragma once

#include <cstdint>
#include <string>

namespace model_audit {

constexpr int kMaxCounterSlots = 4;

struct AllocSnapshot {
  int64_t allocations = 0;      // malloc, calloc, posix_memalign, aligned_alloc, memalign, new, new[], and realloc
  int64_t frees = 0;            // free, delete, delete[], and realloc of a non-null block
  int64_t allocatedBytes = 0;   // usable bytes the allocator handed out
  int64_t freedBytes = 0;
  int64_t liveBytes = 0;        // allocatedBytes - freedBytes since counting began
  int64_t peakLiveBytes = 0;    // high-water mark of liveBytes since the last ResetPeak
  int64_t mmapCalls = 0;
  int64_t munmapCalls = 0;
  int64_t mappedBytes = 0;
  int64_t unmappedBytes = 0;
  int64_t peakMappedLiveBytes = 0;
  int64_t otherThreadAllocations = 0;  // made while a caller was registered, on a thread other than it
};

// Counters at the start and end of one phase; the end's peak is the phase's high-water mark
// (the peak is reset when the phase starts).
struct PhaseMemory {
  AllocSnapshot start;
  AllocSnapshot end;
  bool measured = false;
};

// Rebinds the imports of the library behind `dlHandle` (counting starts now). Returns the slot,
// or -1 with `why` set. Calling it again for a library already counted returns its slot.
int InstallAllocationCounters(void* dlHandle, const std::string& name, std::string* why);
// Restores the library's original bindings; counting stops, totals are kept.
void UninstallAllocationCounters(int slot);
bool CountersInstalled(int slot);

// Counting for as long as at least one holder needs it: the first acquire installs the
// counters, the last release restores the library's original bindings.
int AcquireAllocationCounters(void* dlHandle, const std::string& name, std::string* why);
void ReleaseAllocationCounters(int slot);

// Puts the original bindings back for a while (e.g. a timed loop) without releasing the slot.
// Exact only when what is allocated on one side of the pause is freed on the same side.
void SuspendAllocationCounters(int slot);
void ResumeAllocationCounters(int slot);

// The slot counting the library behind `dlHandle`, or -1.
int FindAllocationCounters(void* dlHandle);

AllocSnapshot ReadAllocCounters(int slot);
void ResetAllocPeak(int slot);

// The thread currently inside a runtime call of this library (0: none), so that allocations
// the runtime makes on its own worker threads can be told apart.
void SetAllocCaller(int slot, bool active);

// Test hook: allocates `bytes` through the library's counted malloc and never frees them, as a
// leaking runtime would (the memory is touched, so RSS grows too).
void LeakForTest(int slot, size_t bytes);

}  // namespace model_audit
