#include "got_patch.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace model_audit {

namespace {

#if defined(__x86_64__)
constexpr uint32_t kJumpSlot = R_X86_64_JUMP_SLOT;
constexpr uint32_t kGlobDat = R_X86_64_GLOB_DAT;
#elif defined(__aarch64__)
constexpr uint32_t kJumpSlot = R_AARCH64_JUMP_SLOT;
constexpr uint32_t kGlobDat = R_AARCH64_GLOB_DAT;
#else
#error "GOT patching supports x86_64 and aarch64"
#endif

// Where relocation offsets resolve: the dynamic section's pointers are already relocated by
// glibc on x86_64 and aarch64; keep the fallback for loaders that leave them as offsets.
ElfW(Addr) Resolve(const link_map* map, ElfW(Addr) value) { return value >= map->l_addr ? value : map->l_addr + value; }

uintptr_t PageOf(const void* address) {
  const auto pageSize = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  return reinterpret_cast<uintptr_t>(address) & ~(pageSize - 1);
}

struct RelroSearch {
  ElfW(Addr) base;
  uintptr_t start = 0;
  uintptr_t end = 0;
};

// The pages the loader made read-only after relocation (PT_GNU_RELRO, its end rounded down).
void FindRelro(const link_map* map, uintptr_t* start, uintptr_t* end) {
  RelroSearch search{map->l_addr};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) -> int {
        auto* s = static_cast<RelroSearch*>(data);
        if (info->dlpi_addr != s->base) return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_GNU_RELRO) continue;
          s->start = PageOf(reinterpret_cast<void*>(info->dlpi_addr + ph.p_vaddr));
          s->end = PageOf(reinterpret_cast<void*>(info->dlpi_addr + ph.p_vaddr + ph.p_memsz));
          return 1;
        }
        return 1;
      },
      &search);
  *start = search.start;
  *end = search.end;
}

}  // namespace

bool WriteGotEntry(const GotPatch& patch, void* value) {
  const auto pageSize = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  auto* page = reinterpret_cast<void*>(PageOf(patch.address));
  if (mprotect(page, pageSize, PROT_READ | PROT_WRITE) != 0) return false;
  __atomic_store_n(patch.address, value, __ATOMIC_RELEASE);
  if (patch.readOnlyAfter) mprotect(page, pageSize, PROT_READ);
  return true;
}

bool FindGotPatches(void* dlHandle, const std::vector<ImportHook>& hooks, std::vector<GotPatch>* patches, std::string* why) {
  link_map* map = nullptr;
  if (dlinfo(dlHandle, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) {
    *why = "dlinfo gave no link map";
    return false;
  }
  const ElfW(Sym)* symtab = nullptr;
  const char* strtab = nullptr;
  const ElfW(Rela)* jmprel = nullptr;
  size_t jmprelSize = 0;
  const ElfW(Rela)* rela = nullptr;
  size_t relaSize = 0;
  for (const ElfW(Dyn)* d = map->l_ld; d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_SYMTAB: symtab = reinterpret_cast<const ElfW(Sym)*>(Resolve(map, d->d_un.d_ptr)); break;
      case DT_STRTAB: strtab = reinterpret_cast<const char*>(Resolve(map, d->d_un.d_ptr)); break;
      case DT_JMPREL: jmprel = reinterpret_cast<const ElfW(Rela)*>(Resolve(map, d->d_un.d_ptr)); break;
      case DT_PLTRELSZ: jmprelSize = d->d_un.d_val; break;
      case DT_RELA: rela = reinterpret_cast<const ElfW(Rela)*>(Resolve(map, d->d_un.d_ptr)); break;
      case DT_RELASZ: relaSize = d->d_un.d_val; break;
      case DT_PLTREL:
        if (d->d_un.d_val != DT_RELA) {
          *why = "the library uses REL relocations, not RELA";
          return false;
        }
        break;
      default: break;
    }
  }
  if (symtab == nullptr || strtab == nullptr) {
    *why = "the library has no dynamic symbol table";
    return false;
  }
  uintptr_t relroStart = 0;
  uintptr_t relroEnd = 0;
  FindRelro(map, &relroStart, &relroEnd);
  auto scan = [&](const ElfW(Rela)* table, size_t bytes) {
    if (table == nullptr) return;
    for (size_t i = 0; i < bytes / sizeof(ElfW(Rela)); ++i) {
      const ElfW(Rela)& r = table[i];
      const uint32_t type = static_cast<uint32_t>(ELF64_R_TYPE(r.r_info));
      if (type != kJumpSlot && type != kGlobDat) continue;
      const char* name = strtab + symtab[ELF64_R_SYM(r.r_info)].st_name;
      for (const ImportHook& hook : hooks) {
        if (std::strcmp(name, hook.name) != 0) continue;
        auto** address = reinterpret_cast<void**>(map->l_addr + r.r_offset);
        void* original = *address;
        if (original == hook.replacement) break;  // already rebound
        if (*hook.original == nullptr) *hook.original = original;
        const uintptr_t page = PageOf(address);
        patches->push_back(GotPatch{address, original, hook.replacement, page >= relroStart && page < relroEnd});
        break;
      }
    }
  };
  scan(jmprel, jmprelSize);
  scan(rela, relaSize);
  if (patches->empty()) {
    *why = "the library imports none of the hooked functions";
    return false;
  }
  return true;
}

}  // namespace model_audit
