#include "bound_run.h"

#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "addon.h"
#include "convert.h"
#include "errors.h"
#include "session_wrap.h"
#include "thread_task.h"

namespace model_audit {

namespace {

// An ArrayBuffer over a block that holds the block alive until V8 lets go of the buffer.
Napi::ArrayBuffer BufferOver(Napi::Env env, const BoundState::Block& block) {
  if (block->capacity() == 0) block->reserve(1);  // a zero-length buffer still needs an address
  auto* keep = new BoundState::Block(block);
  try {
    return Napi::ArrayBuffer::New(
        env, block->data(), block->size(), [](Napi::Env, void*, BoundState::Block* hint) { delete hint; }, keep);
  } catch (...) {
    delete keep;
    throw;
  }
}

// One call of a binding at a time: taken when a call starts, given back when its task ends, on
// whichever path it ends.
class BusyClaim {
 public:
  explicit BusyClaim(std::shared_ptr<BoundState> state) {
    if (state->busy.exchange(true)) {
      throw AuditException(ErrorKind::kInvalidArgument,
                           "a call of this binding is still running: await it first, or bind() again for calls side by side");
    }
    state_ = std::move(state);
  }
  ~BusyClaim() {
    if (state_) state_->busy.store(false);
  }
  BusyClaim(const BusyClaim&) = delete;
  BusyClaim& operator=(const BusyClaim&) = delete;
  BoundState& state() const { return *state_; }

 private:
  std::shared_ptr<BoundState> state_;
};

class BoundRunTask final : public SessionRunTask {
 public:
  BoundRunTask(std::shared_ptr<SessionHolder> holder, std::shared_ptr<BoundState> state)
      : SessionRunTask(std::move(holder)), claim_(std::move(state)) {}
  void Execute() override {
    outputs_ = RunOnce(claim_.state().inputViews);
    reshaped_ = !claim_.state().CopyOutputs(outputs_);
  }
  Napi::Value Result(Napi::Env env) override {
    return reshaped_ ? Napi::Value(claim_.state().AdoptOutputs(env, outputs_)) : env.Null();
  }

 private:
  BusyClaim claim_;
  std::vector<OutputTensor> outputs_;
  bool reshaped_ = false;
};

size_t BlockBytes(Napi::Env env, DType dtype, const std::vector<int64_t>& shape, const std::string& what) {
  size_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) ThrowType(env, what + ".shape", "non-negative dimensions");
    const auto dim = static_cast<size_t>(d);
    if (dim != 0 && count > std::numeric_limits<size_t>::max() / dim) {
      throw AuditException(ErrorKind::kFeed, what + ": its shape holds more elements than memory can");
    }
    count *= dim;
  }
  if (count > std::numeric_limits<size_t>::max() / DTypeSize(dtype)) {
    throw AuditException(ErrorKind::kFeed, what + ": its shape holds more bytes than memory can");
  }
  return count * DTypeSize(dtype);
}

}  // namespace

bool BoundState::CopyOutputs(const std::vector<OutputTensor>& outputs) {
  if (outputs.size() != outputBlocks.size()) return false;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].dtype != outputDtypes[i] || outputs[i].shape != outputShapes[i] ||
        outputs[i].bytes.size() != outputBlocks[i]->size()) {
      return false;
    }
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].bytes.empty()) std::memcpy(outputBlocks[i]->data(), outputs[i].bytes.data(), outputs[i].bytes.size());
  }
  return true;
}

Napi::Array BoundState::AdoptOutputs(Napi::Env env, std::vector<OutputTensor>& outputs) {
  std::vector<Block> blocks;
  blocks.reserve(outputs.size());
  for (OutputTensor& out : outputs) blocks.push_back(std::make_shared<std::vector<uint8_t>>(std::move(out.bytes)));
  Napi::Array array = Napi::Array::New(env, outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    Napi::Object object = Napi::Object::New(env);
    object.Set("name", outputs[i].name);
    object.Set("dtype", DTypeName(outputs[i].dtype));
    object.Set("shape", ShapeToJs(env, outputs[i].shape));
    object.Set("buffer", BufferOver(env, blocks[i]));
    array.Set(static_cast<uint32_t>(i), object);
  }
  outputDtypes.clear();
  outputShapes.clear();
  for (OutputTensor& out : outputs) {
    outputDtypes.push_back(out.dtype);
    outputShapes.push_back(std::move(out.shape));
  }
  outputBlocks = std::move(blocks);
  return array;
}

Napi::Function BoundRunWrap::DefineClass(Napi::Env env) {
  return ObjectWrap<BoundRunWrap>::DefineClass(env, "NativeBoundRun",
                                               {
                                                   InstanceMethod<&BoundRunWrap::Inputs>("inputs"),
                                                   InstanceMethod<&BoundRunWrap::Run>("run"),
                                                   InstanceMethod<&BoundRunWrap::RunSync>("runSync"),
                                               });
}

BoundRunWrap::BoundRunWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BoundRunWrap>(info) {}

Napi::Object BoundRunWrap::NewInstance(Napi::Env env, Napi::Object session, Napi::Value specs) {
  if (!specs.IsArray()) ThrowType(env, "specs", "an array");
  Napi::Array array = specs.As<Napi::Array>();
  auto state = std::make_shared<BoundState>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const std::string what = "specs[" + std::to_string(i) + "]";
    Napi::Value item = array.Get(i);
    if (!item.IsObject()) ThrowType(env, what, "an object");
    TensorView view{};
    ReadDTypeAndShape(env, item.As<Napi::Object>(), what, &view.dtype, &view.shape);
    auto block = std::make_shared<std::vector<uint8_t>>(BlockBytes(env, view.dtype, view.shape, what));
    if (block->capacity() == 0) block->reserve(1);
    view.data = block->data();
    view.byteLength = block->size();
    state->inputBlocks.push_back(std::move(block));
    state->inputViews.push_back(std::move(view));
  }
  Napi::Object object = AddonData::From(env).boundRunConstructor.New({});
  BoundRunWrap* wrap = BoundRunWrap::Unwrap(object);
  wrap->session_ = Napi::Persistent(session);
  wrap->state_ = std::move(state);
  return object;
}

Napi::Value BoundRunWrap::Inputs(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    Napi::Array array = Napi::Array::New(info.Env(), state_->inputBlocks.size());
    for (size_t i = 0; i < state_->inputBlocks.size(); ++i) {
      array.Set(static_cast<uint32_t>(i), BufferOver(info.Env(), state_->inputBlocks[i]));
    }
    return array;
  });
}

Napi::Value BoundRunWrap::Run(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    auto holder = SessionWrap::Unwrap(session_.Value())->RequireOpen(info.Env());
    // lib/model/bound.ts queues the wait for short calls before every run, as Model.run does.
    return ThreadTask::Submit(info.Env(), std::make_unique<BoundRunTask>(std::move(holder), state_), true);
  });
}

Napi::Value BoundRunWrap::RunSync(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    auto holder = SessionWrap::Unwrap(session_.Value())->RequireOpen(info.Env());
    BusyClaim claim(state_);
    std::vector<OutputTensor> outputs;
    {
      RunScope scope(*holder);
      outputs = holder->session->Run(state_->inputViews);
    }
    if (state_->CopyOutputs(outputs)) return info.Env().Null();
    return state_->AdoptOutputs(info.Env(), outputs);
  });
}

}  // namespace model_audit
