// Rebinding a loaded library's imports: find the GOT entries (JUMP_SLOT and GLOB_DAT
// relocations) through which it calls named functions, and write new targets into them, lifting
// RELRO's write protection for the moment of the write. Knows nothing of what the new targets do.
#pragma once

#include <string>
#include <vector>

namespace model_audit {

// One import to rebind: the symbol's name, where to store the library's original target (the
// first one found), and the replacement.
struct ImportHook {
  const char* name;
  void** original;
  void* replacement;
};

// One GOT entry to rewrite.
struct GotPatch {
  void** address;
  void* original;
  void* replacement;
  bool readOnlyAfter;  // the page is part of the library's RELRO and goes back to read-only
};

// Finds every GOT entry of the library behind `dlHandle` that imports one of `hooks`, storing each
// hook's original target. Entries that already hold the replacement are skipped. Returns false
// with `why` set when the library cannot be patched or imports none of them.
bool FindGotPatches(void* dlHandle, const std::vector<ImportHook>& hooks, std::vector<GotPatch>* patches, std::string* why);

// Writes `value` into the entry. False when the page could not be made writable.
bool WriteGotEntry(const GotPatch& patch, void* value);

}  // namespace model_audit
