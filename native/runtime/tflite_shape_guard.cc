#include "tflite_shape_guard.h"


#include "tflite_kernel_timer.h"  // TfLiteBuiltinName

namespace model_audit {
namespace {

// The schema's codes of the kernels that divide by their input's or output's dimensions.
constexpr int32_t kGather = 36;

bool DividesByItsShapes(int32_t code) {
  switch (code) {
    case 1:    // AVERAGE_POOL_2D
    case 3:    // CONV_2D
    case 4:    // DEPTHWISE_CONV_2D
    case 12:   // L2_POOL_2D
    case 17:   // MAX_POOL_2D
    case 67:   // TRANSPOSE_CONV
    case 132:  // CONV_3D
    case 141:  // CONV_3D_TRANSPOSE
      return true;
    default:
      return false;
  }
}

std::string Dims(const TfLiteIntArray* dims) {
  std::string out = "[";
  for (int d = 0; dims != nullptr && d < dims->size; ++d) out += (d > 0 ? "," : "") + std::to_string(dims->data[d]);
  return out + "]";
}

}  // namespace

ShapeGuard::ShapeGuard() : storage_(MakePassiveDelegate(this, &ShapeGuard::DelegatePrepare)) {}

// Called for every subgraph, the main one first, each time delegates are (re)applied: the node
// list is taken afresh then, after any delegate that adds nodes.
TfLiteStatus ShapeGuard::DelegatePrepare(TfLiteContext* context, TfLiteDelegate* delegate) {
  auto* self = static_cast<ShapeGuard*>(delegate->data_);
  if (self->context_ != nullptr && self->context_ != context) return kTfLiteOk;
  self->context_ = context;
  self->nodes_.clear();
  self->gathers_.clear();
  TfLiteIntArray* plan = nullptr;
  if (context->GetExecutionPlan(context, &plan) != kTfLiteOk || plan == nullptr) return kTfLiteOk;
  for (int i = 0; i < plan->size; ++i) {
    TfLiteNode* node = nullptr;
    TfLiteRegistration* registration = nullptr;
    if (context->GetNodeAndRegistration(context, plan->data[i], &node, &registration) != kTfLiteOk) continue;
    if (node->delegate != nullptr) continue;
    if (DividesByItsShapes(registration->builtin_code)) self->nodes_.push_back(GuardedNode{plan->data[i], registration->builtin_code, node});
    if (registration->builtin_code == kGather && node->inputs != nullptr && node->inputs->size >= 2 && node->builtin_data != nullptr) {
      self->gathers_.push_back(GuardedNode{plan->data[i], registration->builtin_code, node});
    }
  }
  return kTfLiteOk;
}

std::string ShapeGuard::Check() const {
  for (const GuardedNode& guarded : nodes_) {
    const TfLiteIntArray* lists[2] = {guarded.node->inputs, guarded.node->outputs};
    for (const TfLiteIntArray* list : lists) {
      if (list == nullptr || list->size == 0) continue;
      const int t = list->data[0];
      if (t < 0 || static_cast<size_t>(t) >= context_->tensors_size) continue;
      const TfLiteTensor& tensor = context_->tensors[t];
      if (tensor.allocation_type == kTfLiteDynamic || tensor.dims == nullptr) continue;  // sized while running
      for (int d = 0; d < tensor.dims->size; ++d) {
        if (tensor.dims->data[d] != 0) continue;
        return "these input shapes give node " + std::to_string(guarded.index) + " (" + TfLiteBuiltinName(guarded.code) +
               ") the empty " + (list == guarded.node->inputs ? "input " : "output ") + Dims(tensor.dims) +
               ", on which TFLite's kernel can divide by zero and kill the process (SIGFPE)";
      }
    }
  }
  return "";
}

std::string ShapeGuard::CheckIndices(const std::vector<const TfLiteTensor*>& inputs, const std::vector<std::string>& names) const {
  for (const GuardedNode& gather : gathers_) {
    const TfLiteTensor& params = context_->tensors[gather.node->inputs->data[0]];
    const TfLiteTensor* positions = &context_->tensors[gather.node->inputs->data[1]];
    size_t which = 0;
    while (which < inputs.size() && inputs[which] != positions) ++which;
    if (which == inputs.size() || params.dims == nullptr || positions->data.raw == nullptr) continue;  // not fed by the caller
    // TfLiteGatherParams begins with the axis (tensorflow/lite/c/builtin_op_data.h, 2.9).
    int axis = *static_cast<const int*>(gather.node->builtin_data);
    if (axis < 0) axis += params.dims->size;
    if (axis < 0 || axis >= params.dims->size) continue;  // TFLite's Prepare refuses it
    const int64_t size = params.dims->data[axis];
    const size_t count = positions->type == kTfLiteInt64 ? positions->bytes / 8 : positions->bytes / 4;
    if (positions->type != kTfLiteInt32 && positions->type != kTfLiteInt64) continue;
    for (size_t k = 0; k < count; ++k) {
      const int64_t index = positions->type == kTfLiteInt64 ? positions->data.i64[k] : positions->data.i32[k];
      if (index >= 0 && index < size) continue;
      return "input " + names[which] + ": element " + std::to_string(k) + " is " + std::to_string(index) +
             ", an index outside [0, " + std::to_string(size) + ") of axis " + std::to_string(axis) + " of node " +
             std::to_string(gather.index) + " (GATHER); TFLite 2.9 refuses negative indices but reads past the end "
             "unchecked (garbage, or a crash)";
    }
  }
  return "";
}

}  // namespace model_audit
