// Per-node times for TFLite through its C API alone. The C API of TFLite 2.9 has no profiler, but
// it takes delegates, and a delegate's Prepare sees every node of every subgraph with its
// registration (TFLite's per-node copy of the kernel's entry points). This delegate claims no node:
// it points each node's invoke entry at a timer that reads the clock, calls the kernel's own invoke
// and reads the clock again. TFLite still runs its own plan (memory planning, dynamic tensors,
// control-flow subgraphs); what is added is a lookup and two clock reads per node.
#pragma once

#include <tensorflow/lite/c/common.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tflite_delegate.h"

namespace model_audit {

class KernelTimer {
 public:
  KernelTimer();
  KernelTimer(const KernelTimer&) = delete;
  KernelTimer& operator=(const KernelTimer&) = delete;

  // The delegate to add to the interpreter's options (before the interpreter is created).
  TfLiteDelegate* delegate() { return &storage_->delegate; }
  // Why per-node times cannot be had for this model ("" while they can).
  const std::string& problem() const { return problem_; }

  // Runs `invoke` (a TfLiteInterpreterInvoke) with this timer active on the calling thread, and
  // records the whole run.
  template <typename Invoke>
  bool TimeRun(Invoke&& invoke) {
    KernelTimer* outer = Activate(this);
    const int64_t start = Now();
    const bool ok = invoke();
    const int64_t end = Now();
    Activate(outer);
    if (ok && !truncated_) runs_.emplace_back(start, end - start);
    return ok;
  }

  // Writes every run and node time recorded in the Chrome trace format of ONNX Runtime's profiler
  // (a `model_run` event per run, a `<node>_kernel_time` event in category Node per node, with
  // op_name, provider and shapes in its args), times in microseconds to the nanosecond. Throws
  // AuditException when the file cannot be written.
  void WriteTrace(const std::string& path) const;

 private:
  struct TimedNode {
    const TfLiteContext* context;  // its subgraph's
    const TfLiteNode* node;
    TfLiteStatus (*invoke)(TfLiteContext*, TfLiteNode*);  // the kernel's own
    int subgraph;
    int index;
    std::string name;
    std::string opType;
    std::string provider;
  };
  struct NodeTime {
    uint32_t node;  // in nodes_
    int64_t startNs;
    int64_t durationNs;
  };

  static TfLiteStatus DelegatePrepare(TfLiteContext* context, TfLiteDelegate* delegate);
  static TfLiteStatus TimedInvoke(TfLiteContext* context, TfLiteNode* node);
  static KernelTimer* Activate(KernelTimer* timer);
  static int64_t Now();

  std::unique_ptr<PassiveDelegate> storage_;
  std::string problem_;
  // A subgraph's nodes lie in one array inside TFLite (node i at base + i × stride): the timed
  // invoke finds its node's record from the node's address, without a search.
  struct Subgraph {
    const TfLiteContext* context;
    const char* base;
    size_t stride;
    std::vector<uint32_t> timed;  // by node index: the record in nodes_, or kUntimed
  };
  static constexpr uint32_t kUntimed = 0xffffffffu;
  uint32_t Find(const TfLiteContext* context, const TfLiteNode* node) const;

  std::vector<TimedNode> nodes_;
  std::vector<Subgraph> subgraphs_;
  std::vector<NodeTime> times_;
  std::vector<std::pair<int64_t, int64_t>> runs_;
  bool truncated_ = false;
};

// The schema's name of a TFLite builtin operator ("CONV_2D"), or "BUILTIN_<code>" for one this
// table does not know.
std::string TfLiteBuiltinName(int32_t code);

}  // namespace model_audit
