#include "alloc_counters.h"

#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "got_patch.h"

namespace model_audit {

namespace {

using MallocFn = void* (*)(size_t);
using CallocFn = void* (*)(size_t, size_t);
using ReallocFn = void* (*)(void*, size_t);
using FreeFn = void (*)(void*);
using PosixMemalignFn = int (*)(void**, size_t, size_t);
using AlignedAllocFn = void* (*)(size_t, size_t);
using MmapFn = void* (*)(void*, size_t, int, int, int, off_t);
using MunmapFn = int (*)(void*, size_t);
using NewFn = void* (*)(size_t);
using NewNothrowFn = void* (*)(size_t, const std::nothrow_t&);
using NewAlignedFn = void* (*)(size_t, std::align_val_t);
using NewAlignedNothrowFn = void* (*)(size_t, std::align_val_t, const std::nothrow_t&);
using DeleteFn = void (*)(void*);
using DeleteSizedFn = void (*)(void*, size_t);
using DeleteAlignedFn = void (*)(void*, std::align_val_t);
using DeleteSizedAlignedFn = void (*)(void*, size_t, std::align_val_t);
using DeleteNothrowFn = void (*)(void*, const std::nothrow_t&);

struct alignas(64) Counters {
  std::atomic<int64_t> allocations{0};
  std::atomic<int64_t> frees{0};
  std::atomic<int64_t> allocatedBytes{0};
  std::atomic<int64_t> freedBytes{0};
  std::atomic<int64_t> liveBytes{0};
  std::atomic<int64_t> peakLiveBytes{0};
  std::atomic<int64_t> mmapCalls{0};
  std::atomic<int64_t> munmapCalls{0};
  std::atomic<int64_t> mappedBytes{0};
  std::atomic<int64_t> unmappedBytes{0};
  std::atomic<int64_t> mappedLiveBytes{0};
  std::atomic<int64_t> peakMappedLiveBytes{0};
  std::atomic<int64_t> otherThreadAllocations{0};
  std::atomic<unsigned long> caller{0};
  std::atomic<int> callerDepth{0};
};

Counters g_counters[kMaxCounterSlots];

inline void RaisePeak(std::atomic<int64_t>& peak, int64_t value) {
  int64_t seen = peak.load(std::memory_order_relaxed);
  while (value > seen && !peak.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

inline void CountAlloc(int slot, void* p) {
  if (p == nullptr) return;
  Counters& c = g_counters[slot];
  const int64_t size = static_cast<int64_t>(malloc_usable_size(p));
  c.allocations.fetch_add(1, std::memory_order_relaxed);
  c.allocatedBytes.fetch_add(size, std::memory_order_relaxed);
  RaisePeak(c.peakLiveBytes, c.liveBytes.fetch_add(size, std::memory_order_relaxed) + size);
  const unsigned long caller = c.caller.load(std::memory_order_relaxed);
  if (caller != 0 && caller != static_cast<unsigned long>(pthread_self())) {
    c.otherThreadAllocations.fetch_add(1, std::memory_order_relaxed);
  }
}

inline void CountFree(int slot, void* p) {
  if (p == nullptr) return;
  Counters& c = g_counters[slot];
  const int64_t size = static_cast<int64_t>(malloc_usable_size(p));
  c.frees.fetch_add(1, std::memory_order_relaxed);
  c.freedBytes.fetch_add(size, std::memory_order_relaxed);
  c.liveBytes.fetch_sub(size, std::memory_order_relaxed);
}

// The real functions, as the library's GOT held them before rebinding.
struct Originals {
  MallocFn malloc = nullptr;
  CallocFn calloc = nullptr;
  ReallocFn realloc = nullptr;
  FreeFn free = nullptr;
  PosixMemalignFn posixMemalign = nullptr;
  AlignedAllocFn alignedAlloc = nullptr;
  AlignedAllocFn memalign = nullptr;
  MmapFn mmap = nullptr;
  MunmapFn munmap = nullptr;
  NewFn newPlain = nullptr;
  NewFn newArray = nullptr;
  NewNothrowFn newNothrow = nullptr;
  NewNothrowFn newArrayNothrow = nullptr;
  NewAlignedFn newAligned = nullptr;
  NewAlignedFn newArrayAligned = nullptr;
  NewAlignedNothrowFn newAlignedNothrow = nullptr;
  NewAlignedNothrowFn newArrayAlignedNothrow = nullptr;
  DeleteFn deletePlain = nullptr;
  DeleteFn deleteArray = nullptr;
  DeleteSizedFn deleteSized = nullptr;
  DeleteSizedFn deleteArraySized = nullptr;
  DeleteAlignedFn deleteAligned = nullptr;
  DeleteAlignedFn deleteArrayAligned = nullptr;
  DeleteSizedAlignedFn deleteSizedAligned = nullptr;
  DeleteSizedAlignedFn deleteArraySizedAligned = nullptr;
  DeleteNothrowFn deleteNothrow = nullptr;
  DeleteNothrowFn deleteArrayNothrow = nullptr;
};

Originals g_originals[kMaxCounterSlots];

// Wrappers, one instantiation per slot so each library counts into its own counters.
// Hooks<S>::Malloc needs the originals; LeakForTest uses the wrapper only after installation.
template <int S>
struct Hooks {
  static Originals& O() { return g_originals[S]; }
  static void* Malloc(size_t n) {
    void* p = O().malloc(n);
    CountAlloc(S, p);
    return p;
  }
  static void* Calloc(size_t n, size_t size) {
    void* p = O().calloc(n, size);
    CountAlloc(S, p);
    return p;
  }
  static void* Realloc(void* old, size_t n) {
    CountFree(S, old);
    void* p = O().realloc(old, n);
    if (p == nullptr && old != nullptr && n != 0) {
      CountAlloc(S, old);  // failed: the old block is still live
      return p;
    }
    CountAlloc(S, p);
    return p;
  }
  static void Free(void* p) {
    CountFree(S, p);
    O().free(p);
  }
  static int PosixMemalign(void** out, size_t alignment, size_t n) {
    int rc = O().posixMemalign(out, alignment, n);
    if (rc == 0) CountAlloc(S, *out);
    return rc;
  }
  static void* AlignedAlloc(size_t alignment, size_t n) {
    void* p = O().alignedAlloc(alignment, n);
    CountAlloc(S, p);
    return p;
  }
  static void* Memalign(size_t alignment, size_t n) {
    void* p = O().memalign(alignment, n);
    CountAlloc(S, p);
    return p;
  }
  static void* Mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
    void* p = O().mmap(addr, length, prot, flags, fd, offset);
    if (p != MAP_FAILED) {
      Counters& c = g_counters[S];
      c.mmapCalls.fetch_add(1, std::memory_order_relaxed);
      c.mappedBytes.fetch_add(static_cast<int64_t>(length), std::memory_order_relaxed);
      RaisePeak(c.peakMappedLiveBytes,
                c.mappedLiveBytes.fetch_add(static_cast<int64_t>(length), std::memory_order_relaxed) +
                    static_cast<int64_t>(length));
    }
    return p;
  }
  static int Munmap(void* addr, size_t length) {
    int rc = O().munmap(addr, length);
    if (rc == 0) {
      Counters& c = g_counters[S];
      c.munmapCalls.fetch_add(1, std::memory_order_relaxed);
      c.unmappedBytes.fetch_add(static_cast<int64_t>(length), std::memory_order_relaxed);
      c.mappedLiveBytes.fetch_sub(static_cast<int64_t>(length), std::memory_order_relaxed);
    }
    return rc;
  }
  static void* New(size_t n) {
    void* p = O().newPlain(n);
    CountAlloc(S, p);
    return p;
  }
  static void* NewArray(size_t n) {
    void* p = O().newArray(n);
    CountAlloc(S, p);
    return p;
  }
  static void* NewNothrow(size_t n, const std::nothrow_t& t) {
    void* p = O().newNothrow(n, t);
    CountAlloc(S, p);
    return p;
  }
  static void* NewArrayNothrow(size_t n, const std::nothrow_t& t) {
    void* p = O().newArrayNothrow(n, t);
    CountAlloc(S, p);
    return p;
  }
  static void* NewAligned(size_t n, std::align_val_t a) {
    void* p = O().newAligned(n, a);
    CountAlloc(S, p);
    return p;
  }
  static void* NewArrayAligned(size_t n, std::align_val_t a) {
    void* p = O().newArrayAligned(n, a);
    CountAlloc(S, p);
    return p;
  }
  static void* NewAlignedNothrow(size_t n, std::align_val_t a, const std::nothrow_t& t) {
    void* p = O().newAlignedNothrow(n, a, t);
    CountAlloc(S, p);
    return p;
  }
  static void* NewArrayAlignedNothrow(size_t n, std::align_val_t a, const std::nothrow_t& t) {
    void* p = O().newArrayAlignedNothrow(n, a, t);
    CountAlloc(S, p);
    return p;
  }
  static void Delete(void* p) {
    CountFree(S, p);
    O().deletePlain(p);
  }
  static void DeleteArray(void* p) {
    CountFree(S, p);
    O().deleteArray(p);
  }
  static void DeleteSized(void* p, size_t n) {
    CountFree(S, p);
    O().deleteSized(p, n);
  }
  static void DeleteArraySized(void* p, size_t n) {
    CountFree(S, p);
    O().deleteArraySized(p, n);
  }
  static void DeleteAligned(void* p, std::align_val_t a) {
    CountFree(S, p);
    O().deleteAligned(p, a);
  }
  static void DeleteArrayAligned(void* p, std::align_val_t a) {
    CountFree(S, p);
    O().deleteArrayAligned(p, a);
  }
  static void DeleteSizedAligned(void* p, size_t n, std::align_val_t a) {
    CountFree(S, p);
    O().deleteSizedAligned(p, n, a);
  }
  static void DeleteArraySizedAligned(void* p, size_t n, std::align_val_t a) {
    CountFree(S, p);
    O().deleteArraySizedAligned(p, n, a);
  }
  static void DeleteNothrow(void* p, const std::nothrow_t& t) {
    CountFree(S, p);
    O().deleteNothrow(p, t);
  }
  static void DeleteArrayNothrow(void* p, const std::nothrow_t& t) {
    CountFree(S, p);
    O().deleteArrayNothrow(p, t);
  }
};

// The imports rebound for slot S: each allocation function, its original's home, its wrapper.
template <int S>
std::vector<ImportHook> HooksFor() {
  Originals& o = g_originals[S];
  using H = Hooks<S>;
  auto entry = [](const char* name, auto& slotRef, auto fn) {
    return ImportHook{name, reinterpret_cast<void**>(&slotRef), reinterpret_cast<void*>(fn)};
  };
  return {
      entry("malloc", o.malloc, &H::Malloc),
      entry("calloc", o.calloc, &H::Calloc),
      entry("realloc", o.realloc, &H::Realloc),
      entry("free", o.free, &H::Free),
      entry("posix_memalign", o.posixMemalign, &H::PosixMemalign),
      entry("aligned_alloc", o.alignedAlloc, &H::AlignedAlloc),
      entry("memalign", o.memalign, &H::Memalign),
      entry("mmap", o.mmap, &H::Mmap),
      entry("mmap64", o.mmap, &H::Mmap),
      entry("munmap", o.munmap, &H::Munmap),
      entry("_Znwm", o.newPlain, &H::New),
      entry("_Znam", o.newArray, &H::NewArray),
      entry("_ZnwmRKSt9nothrow_t", o.newNothrow, &H::NewNothrow),
      entry("_ZnamRKSt9nothrow_t", o.newArrayNothrow, &H::NewArrayNothrow),
      entry("_ZnwmSt11align_val_t", o.newAligned, &H::NewAligned),
      entry("_ZnamSt11align_val_t", o.newArrayAligned, &H::NewArrayAligned),
      entry("_ZnwmSt11align_val_tRKSt9nothrow_t", o.newAlignedNothrow, &H::NewAlignedNothrow),
      entry("_ZnamSt11align_val_tRKSt9nothrow_t", o.newArrayAlignedNothrow, &H::NewArrayAlignedNothrow),
      entry("_ZdlPv", o.deletePlain, &H::Delete),
      entry("_ZdaPv", o.deleteArray, &H::DeleteArray),
      entry("_ZdlPvm", o.deleteSized, &H::DeleteSized),
      entry("_ZdaPvm", o.deleteArraySized, &H::DeleteArraySized),
      entry("_ZdlPvSt11align_val_t", o.deleteAligned, &H::DeleteAligned),
      entry("_ZdaPvSt11align_val_t", o.deleteArrayAligned, &H::DeleteArrayAligned),
      entry("_ZdlPvmSt11align_val_t", o.deleteSizedAligned, &H::DeleteSizedAligned),
      entry("_ZdaPvmSt11align_val_t", o.deleteArraySizedAligned, &H::DeleteArraySizedAligned),
      entry("_ZdlPvRKSt9nothrow_t", o.deleteNothrow, &H::DeleteNothrow),
      entry("_ZdaPvRKSt9nothrow_t", o.deleteArrayNothrow, &H::DeleteArrayNothrow),
  };
}

std::vector<ImportHook> HooksForSlot(int slot) {
  switch (slot) {
    case 0: return HooksFor<0>();
    case 1: return HooksFor<1>();
    case 2: return HooksFor<2>();
    default: return HooksFor<3>();
  }
}

struct SlotState {
  void* handle = nullptr;
  std::string name;
  bool installed = false;
  int holders = 0;
  std::vector<GotPatch> patches;
};

std::mutex g_mutex;
SlotState g_slots[kMaxCounterSlots];

}  // namespace

namespace {

int InstallLocked(void* dlHandle, const std::string& name, std::string* why);
void UninstallLocked(int slot);

}  // namespace

int InstallAllocationCounters(void* dlHandle, const std::string& name, std::string* why) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return InstallLocked(dlHandle, name, why);
}

void UninstallAllocationCounters(int slot) {
  if (slot < 0 || slot >= kMaxCounterSlots) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  UninstallLocked(slot);
}

int AcquireAllocationCounters(void* dlHandle, const std::string& name, std::string* why) {
  std::lock_guard<std::mutex> lock(g_mutex);
  const int slot = InstallLocked(dlHandle, name, why);
  if (slot >= 0) ++g_slots[slot].holders;
  return slot;
}

void ReleaseAllocationCounters(int slot) {
  if (slot < 0 || slot >= kMaxCounterSlots) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  SlotState& state = g_slots[slot];
  if (state.holders > 0 && --state.holders == 0) UninstallLocked(slot);
}

int FindAllocationCounters(void* dlHandle) {
  std::lock_guard<std::mutex> lock(g_mutex);
  for (int s = 0; s < kMaxCounterSlots; ++s) {
    if (g_slots[s].handle == dlHandle) return s;
  }
  return -1;
}

void SuspendAllocationCounters(int slot) {
  if (slot < 0 || slot >= kMaxCounterSlots) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  UninstallLocked(slot);
}

void ResumeAllocationCounters(int slot) {
  if (slot < 0 || slot >= kMaxCounterSlots) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  SlotState& state = g_slots[slot];
  if (state.holders == 0 || state.installed || state.handle == nullptr) return;
  std::string why;
  InstallLocked(state.handle, state.name, &why);
}

namespace {

int InstallLocked(void* dlHandle, const std::string& name, std::string* why) {
  int slot = -1;
  for (int s = 0; s < kMaxCounterSlots; ++s) {
    if (g_slots[s].handle == dlHandle) {
      slot = s;
      break;
    }
  }
  if (slot < 0) {
    for (int s = 0; s < kMaxCounterSlots; ++s) {
      if (g_slots[s].handle == nullptr) {
        slot = s;
        break;
      }
    }
  }
  if (slot < 0) {
    *why = "allocation counters are already installed for " + std::to_string(kMaxCounterSlots) + " libraries";
    return -1;
  }
  SlotState& state = g_slots[slot];
  if (state.installed) return slot;
  std::vector<GotPatch> patches;
  if (!FindGotPatches(dlHandle, HooksForSlot(slot), &patches, why)) return -1;
  // FindGotPatches stored every original before any wrapper becomes reachable.
  for (const GotPatch& patch : patches) {
    if (!WriteGotEntry(patch, patch.replacement)) {
      for (const GotPatch& done : state.patches) WriteGotEntry(done, done.original);
      state.patches.clear();
      *why = std::string("mprotect refused to make the GOT writable: ") + std::strerror(errno);
      return -1;
    }
    state.patches.push_back(patch);
  }
  state.handle = dlHandle;
  state.name = name;
  state.installed = true;
  return slot;
}

void UninstallLocked(int slot) {
  SlotState& state = g_slots[slot];
  if (!state.installed) return;
  for (const GotPatch& patch : state.patches) WriteGotEntry(patch, patch.original);
  state.patches.clear();
  state.installed = false;
}

}  // namespace

bool CountersInstalled(int slot) {
  if (slot < 0 || slot >= kMaxCounterSlots) return false;
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_slots[slot].installed;
}

AllocSnapshot ReadAllocCounters(int slot) {
  AllocSnapshot s;
  if (slot < 0 || slot >= kMaxCounterSlots) return s;
  const Counters& c = g_counters[slot];
  s.allocations = c.allocations.load();
  s.frees = c.frees.load();
  s.allocatedBytes = c.allocatedBytes.load();
  s.freedBytes = c.freedBytes.load();
  s.liveBytes = c.liveBytes.load();
  s.peakLiveBytes = c.peakLiveBytes.load();
  s.mmapCalls = c.mmapCalls.load();
  s.munmapCalls = c.munmapCalls.load();
  s.mappedBytes = c.mappedBytes.load();
  s.unmappedBytes = c.unmappedBytes.load();
  s.peakMappedLiveBytes = c.peakMappedLiveBytes.load();
  s.otherThreadAllocations = c.otherThreadAllocations.load();
  return s;
}

void ResetAllocPeak(int slot) {
  if (slot < 0 || slot >= kMaxCounterSlots) return;
  Counters& c = g_counters[slot];
  c.peakLiveBytes.store(c.liveBytes.load());
  c.peakMappedLiveBytes.store(c.mappedLiveBytes.load());
}

void SetAllocCaller(int slot, bool active) {
  if (slot < 0 || slot >= kMaxCounterSlots) return;
  Counters& c = g_counters[slot];
  if (active) {
    if (c.callerDepth.fetch_add(1) == 0) c.caller.store(static_cast<unsigned long>(pthread_self()));
  } else if (c.callerDepth.fetch_sub(1) == 1) {
    c.caller.store(0);
  }
}

void LeakForTest(int slot, size_t bytes) {
  if (slot < 0 || slot >= kMaxCounterSlots || bytes == 0) return;
  void* p = nullptr;
  switch (slot) {
    case 0: p = Hooks<0>::Malloc(bytes); break;
    case 1: p = Hooks<1>::Malloc(bytes); break;
    case 2: p = Hooks<2>::Malloc(bytes); break;
    default: p = Hooks<3>::Malloc(bytes); break;
  }
  if (p != nullptr) std::memset(p, 0xA5, bytes);
}

}  // namespace model_audit
