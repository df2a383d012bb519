// A binding of one session: its inputs and outputs live in memory the binding keeps across calls,
// handed to JS once as ArrayBuffers over that memory, so that a call reads no feeds object and
// makes no output objects (unless the output shapes changed).
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "../runtime/runtime.h"

namespace model_audit {

// What a binding's calls share with the tasks that run them. Its memory is freed when the binding,
// every task and every ArrayBuffer over it are gone, so no JS view can outlive what it shows.
struct BoundState {
  using Block = std::shared_ptr<std::vector<uint8_t>>;
  std::vector<Block> inputBlocks;
  std::vector<TensorView> inputViews;  // over inputBlocks, made once
  // The outputs' dtypes, shapes and memory, once a run has made them (empty before).
  std::vector<DType> outputDtypes;
  std::vector<std::vector<int64_t>> outputShapes;
  std::vector<Block> outputBlocks;
  // One call of a binding at a time: its runs read and write the same memory.
  std::atomic<bool> busy{false};

  // Copies `outputs` into the output blocks when each has the dtype and shape it had; false when
  // any differs (or there are none yet), leaving the blocks as they were.
  bool CopyOutputs(const std::vector<OutputTensor>& outputs);
  // On the JS thread: new blocks for `outputs` (their bytes moved in), as NativeOutput[] whose
  // buffers are ArrayBuffers over those blocks.
  Napi::Array AdoptOutputs(Napi::Env env, std::vector<OutputTensor>& outputs);
};

class BoundRunWrap : public Napi::ObjectWrap<BoundRunWrap> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // session.bind(specs): specs in model input order, { dtype, shape } each, already checked
  // against the model (lib/model/bound.ts); allocates the inputs, zero-filled.
  static Napi::Object NewInstance(Napi::Env env, Napi::Object session, Napi::Value specs);
  explicit BoundRunWrap(const Napi::CallbackInfo& info);

 private:
  // ArrayBuffer[] over the input blocks, in model input order.
  Napi::Value Inputs(const Napi::CallbackInfo& info);
  // Promise<NativeOutput[] | null>: null when the outputs kept their shapes and were written in place.
  Napi::Value Run(const Napi::CallbackInfo& info);
  // NativeOutput[] | null, as run().
  Napi::Value RunSync(const Napi::CallbackInfo& info);

  Napi::ObjectReference session_;  // the SessionWrap: a closed model refuses the binding's calls
  std::shared_ptr<BoundState> state_;
};

}  // namespace model_audit
