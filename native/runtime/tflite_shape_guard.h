// What TFLite 2.9 does not check and dies on:
// - input shapes that leave a convolution or pooling node with an empty input or output
//   (melspectrogram.tflite fed 400 samples: CONV_2D's output is [1,1,0,257]): the kernel can divide
//   by zero inside Invoke and kill the process with SIGFPE;
// - GATHER indices past the end of the gathered axis, read unchecked (a large one is a SIGSEGV;
//   TFLite itself refuses only negative ones).
// The C API shows no nodes, but a delegate's Prepare does: this one claims no node and keeps the
// main subgraph's nodes, so that shapes can be checked after each allocation, and indices the
// caller feeds straight into a GATHER after each copy of the inputs, before anything runs.
#pragma once

#include <tensorflow/lite/c/common.h>

#include <memory>
#include <string>
#include <vector>

#include "tflite_delegate.h"

namespace model_audit {

class ShapeGuard {
 public:
  ShapeGuard();
  ShapeGuard(const ShapeGuard&) = delete;
  ShapeGuard& operator=(const ShapeGuard&) = delete;

  // To add to the interpreter's options last, after any delegate that takes nodes over.
  TfLiteDelegate* delegate() { return &storage_->delegate; }
  // After a successful AllocateTensors: why these shapes must not run ("" when they may).
  std::string Check() const;
  // After the inputs are copied in: why their values must not run ("" when they may). `inputs`
  // are the interpreter's input tensors, `names` the model's input names.
  std::string CheckIndices(const std::vector<const TfLiteTensor*>& inputs, const std::vector<std::string>& names) const;
  // Whether the graph has a GATHER whose indices the caller may feed (else CheckIndices has nothing to do).
  bool WatchesIndices() const { return !gathers_.empty(); }

 private:
  struct GuardedNode {
    int index;
    int32_t code;
    const TfLiteNode* node;
  };
  static TfLiteStatus DelegatePrepare(TfLiteContext* context, TfLiteDelegate* delegate);

  std::unique_ptr<PassiveDelegate> storage_;
  const TfLiteContext* context_ = nullptr;  // the main subgraph's
  std::vector<GuardedNode> nodes_;
  std::vector<GuardedNode> gathers_;
};

}  // namespace model_audit
