// The delegates the addon adds to a TFLite interpreter take no node over: they only look at the
// graph (and the kernel timer re-points each node's invoke). Both start the same way.
#pragma once

#include <tensorflow/lite/c/common.h>

#include <cstring>
#include <memory>

namespace model_audit {

// TfLiteDelegate followed by zeros: a library whose TfLiteDelegate has grown reads defaults.
struct PassiveDelegate {
  TfLiteDelegate delegate;
  unsigned char zeros[128];
};

// A delegate whose Prepare is `prepare` (with `data` as its data_). It allows dynamic tensors: it
// takes no node over, so nothing of TFLite's handling of tensors sized while running changes.
inline std::unique_ptr<PassiveDelegate> MakePassiveDelegate(void* data, TfLiteStatus (*prepare)(TfLiteContext*, TfLiteDelegate*)) {
  auto storage = std::make_unique<PassiveDelegate>();
  std::memset(storage.get(), 0, sizeof(PassiveDelegate));
  storage->delegate.data_ = data;
  storage->delegate.Prepare = prepare;
  storage->delegate.flags = kTfLiteDelegateFlagsAllowDynamicTensors;
  return storage;
}

}  // namespace model_audit
