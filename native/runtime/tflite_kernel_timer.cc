#include "tflite_kernel_timer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "../measure/clock.h"
#include "runtime.h"

namespace model_audit {
namespace {

// The BuiltinOperator enum of TFLite's schema, by code (the codes are fixed by the file format).
const char* const kBuiltinNames[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
    "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
    "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
    "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
    "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
    "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE",
    "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
    "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR",
    "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE",
    "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE",
    "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK",
    "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
    "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
    "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D",
    "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE",
    "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU",
    "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
};

// Codes of the schema's two pseudo-operators (builtin_ops.h is not among the headers built against).
constexpr int32_t kBuiltinCustom = 32;
constexpr int32_t kBuiltinDelegate = 51;

// Node times kept before the record stops (as ONNX Runtime's profiler stops at 1,000,000 events).
constexpr size_t kMaxNodeTimes = 1000000;

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof(escape), "\\u%04x", c);
      out += escape;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

const char* TypeName(TfLiteType type) {
  switch (type) {
    case kTfLiteFloat32: return "float";
    case kTfLiteFloat16: return "float16";
    case kTfLiteFloat64: return "double";
    case kTfLiteInt8: return "int8";
    case kTfLiteUInt8: return "uint8";
    case kTfLiteInt16: return "int16";
    case kTfLiteInt32: return "int32";
    case kTfLiteInt64: return "int64";
    case kTfLiteBool: return "bool";
    case kTfLiteString: return "string";
    default: return "other";
  }
}

// The timer whose session is running on this thread (a control-flow node's subgraphs run on it too).
thread_local KernelTimer* active = nullptr;

// Microseconds with nanosecond digits, as the trace format counts time.
std::string Micros(int64_t ns) {
  char text[32];
  std::snprintf(text, sizeof(text), "%lld.%03lld", static_cast<long long>(ns / 1000), static_cast<long long>(ns % 1000));
  return text;
}

std::string ShapesJson(const TfLiteContext* context, const TfLiteIntArray* tensors) {
  std::string out = "[";
  for (int i = 0; tensors != nullptr && i < tensors->size; ++i) {
    const int t = tensors->data[i];
    if (t < 0 || static_cast<size_t>(t) >= context->tensors_size) continue;
    const TfLiteTensor& tensor = context->tensors[t];
    if (out.size() > 1) out += ",";
    out += "{\"";
    out += TypeName(tensor.type);
    out += "\":[";
    for (int d = 0; tensor.dims != nullptr && d < tensor.dims->size; ++d) {
      if (d > 0) out += ",";
      out += std::to_string(tensor.dims->data[d]);
    }
    out += "]}";
  }
  return out + "]";
}

}  // namespace

std::string TfLiteBuiltinName(int32_t code) {
  const int32_t known = static_cast<int32_t>(sizeof(kBuiltinNames) / sizeof(kBuiltinNames[0]));
  if (code >= 0 && code < known) return kBuiltinNames[code];
  return "BUILTIN_" + std::to_string(code);
}

KernelTimer::KernelTimer() : storage_(MakePassiveDelegate(this, &KernelTimer::DelegatePrepare)) {
  times_.reserve(1 << 16);  // so that a run rarely grows the record
}

KernelTimer* KernelTimer::Activate(KernelTimer* timer) {
  KernelTimer* before = active;
  active = timer;
  return before;
}

int64_t KernelTimer::Now() { return NowNs(); }

// Called by TFLite once per subgraph while it applies the delegate.
TfLiteStatus KernelTimer::DelegatePrepare(TfLiteContext* context, TfLiteDelegate* delegate) {
  auto* self = static_cast<KernelTimer*>(delegate->data_);
  const int subgraph = static_cast<int>(self->subgraphs_.size());
  TfLiteIntArray* plan = nullptr;
  auto refuse = [&](const std::string& why) {
    if (self->problem_.empty()) self->problem_ = why;
    context->ReportError(context, "model-audit profile: %s", why.c_str());
    return kTfLiteError;
  };
  if (context->GetExecutionPlan(context, &plan) != kTfLiteOk || plan == nullptr) {
    return refuse("TFLite did not give the timing delegate its execution plan");
  }
  std::vector<int> indices(plan->data, plan->data + plan->size);  // a later call would overwrite `plan`
  if (indices.empty()) return kTfLiteOk;
  // Where node 0 and node 1 are: the array's start and its stride.
  const int count = *std::max_element(indices.begin(), indices.end()) + 1;
  TfLiteNode* first = nullptr;
  TfLiteNode* second = nullptr;
  TfLiteRegistration* unused = nullptr;
  if (context->GetNodeAndRegistration(context, 0, &first, &unused) != kTfLiteOk ||
      (count > 1 && context->GetNodeAndRegistration(context, 1, &second, &unused) != kTfLiteOk)) {
    return refuse("TFLite did not give the timing delegate its first nodes");
  }
  Subgraph layout{context, reinterpret_cast<const char*>(first),
                  count > 1 ? static_cast<size_t>(reinterpret_cast<const char*>(second) - reinterpret_cast<const char*>(first)) : 1,
                  std::vector<uint32_t>(static_cast<size_t>(count), kUntimed)};
  for (int index : indices) {
    TfLiteNode* node = nullptr;
    TfLiteRegistration* registration = nullptr;
    if (context->GetNodeAndRegistration(context, index, &node, &registration) != kTfLiteOk) {
      return refuse("TFLite did not give node " + std::to_string(index) + " to the timing delegate");
    }
    if (reinterpret_cast<const char*>(node) != layout.base + static_cast<size_t>(index) * layout.stride) {
      return refuse("TFLite's nodes are not laid out as the timing delegate expects (TFLite 2.9)");
    }
    if (node->delegate != nullptr || registration->builtin_code == kBuiltinDelegate) {
      return refuse("another delegate runs part of the graph as one node, whose insides TFLite cannot see");
    }
    if (registration->invoke == nullptr || registration->invoke == &KernelTimer::TimedInvoke) continue;
    TimedNode timed{context, node, registration->invoke, subgraph, index, "", "", ""};
    const bool custom = registration->builtin_code == kBuiltinCustom;
    timed.opType = custom && registration->custom_name != nullptr ? registration->custom_name
                                                                   : TfLiteBuiltinName(registration->builtin_code);
    timed.provider = custom ? "custom" : "builtin";
    // TFLite nodes have no names: a node is known by the tensor it writes first, and its index.
    std::string output;
    if (node->outputs != nullptr && node->outputs->size > 0 && node->outputs->data[0] >= 0 &&
        static_cast<size_t>(node->outputs->data[0]) < context->tensors_size) {
      const char* name = context->tensors[node->outputs->data[0]].name;
      if (name != nullptr) output = name;
    }
    timed.name = (output.empty() ? timed.opType : output) + " #" + std::to_string(index);
    if (subgraph > 0) timed.name = "subgraph " + std::to_string(subgraph) + ": " + timed.name;
    layout.timed[static_cast<size_t>(index)] = static_cast<uint32_t>(self->nodes_.size());
    self->nodes_.push_back(std::move(timed));
    registration->invoke = &KernelTimer::TimedInvoke;
  }
  self->subgraphs_.push_back(std::move(layout));
  return kTfLiteOk;
}

uint32_t KernelTimer::Find(const TfLiteContext* context, const TfLiteNode* node) const {
  for (const Subgraph& subgraph : subgraphs_) {
    if (subgraph.context != context) continue;
    const auto offset = reinterpret_cast<const char*>(node) - subgraph.base;
    if (offset < 0 || static_cast<size_t>(offset) % subgraph.stride != 0) return kUntimed;
    const size_t index = static_cast<size_t>(offset) / subgraph.stride;
    return index < subgraph.timed.size() ? subgraph.timed[index] : kUntimed;
  }
  return kUntimed;
}

// Every node's invoke entry while the timer is installed.
TfLiteStatus KernelTimer::TimedInvoke(TfLiteContext* context, TfLiteNode* node) {
  KernelTimer* self = active;
  if (self == nullptr) {
    context->ReportError(context, "model-audit profile: a timed node ran outside a timed run");
    return kTfLiteError;
  }
  const uint32_t which = self->Find(context, node);
  if (which == kUntimed) {
    context->ReportError(context, "model-audit profile: a node the timing delegate did not see ran");
    return kTfLiteError;
  }
  const auto invoke = self->nodes_[which].invoke;
  const int64_t start = NowNs();
  const TfLiteStatus status = invoke(context, node);
  const int64_t end = NowNs();
  if (self->times_.size() < kMaxNodeTimes) {
    self->times_.push_back(NodeTime{which, start, end - start});
  } else {
    self->truncated_ = true;
  }
  return status;
}

void KernelTimer::WriteTrace(const std::string& path) const {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    throw AuditException(ErrorKind::kRuntime, "cannot write the profile " + path + ": " + std::strerror(errno));
  }
  const int64_t origin = !runs_.empty() ? runs_.front().first : (!times_.empty() ? times_.front().startNs : 0);
  std::vector<std::string> args;  // per node: its shapes as they are after the last run
  for (const TimedNode& node : nodes_) {
    args.push_back(",\"args\":{\"op_name\":" + JsonString(node.opType) + ",\"provider\":" + JsonString(node.provider) +
                   ",\"node_index\":\"" + std::to_string(node.index) + "\",\"subgraph\":" + std::to_string(node.subgraph) +
                   ",\"input_type_shape\":" + ShapesJson(node.context, node.node->inputs) +
                   ",\"output_type_shape\":" + ShapesJson(node.context, node.node->outputs) + "}}");
  }
  bool first = true;
  auto event = [&](const std::string& text) {
    std::fputs(first ? "[\n" : ",\n", file);
    std::fputs(text.c_str(), file);
    first = false;
  };
  for (const auto& run : runs_) {
    event("{\"cat\":\"Session\",\"pid\":1,\"tid\":1,\"ph\":\"X\",\"name\":\"model_run\",\"ts\":" + Micros(run.first - origin) +
          ",\"dur\":" + Micros(run.second) + "}");
  }
  for (const NodeTime& time : times_) {
    event("{\"cat\":\"Node\",\"pid\":1,\"tid\":1,\"ph\":\"X\",\"name\":" + JsonString(nodes_[time.node].name + "_kernel_time") +
          ",\"ts\":" + Micros(time.startNs - origin) + ",\"dur\":" + Micros(time.durationNs) + args[time.node]);
  }
  std::fputs(first ? "[]\n" : "\n]\n", file);
  if (std::fclose(file) != 0) {
    throw AuditException(ErrorKind::kRuntime, "cannot write the profile " + path + ": " + std::strerror(errno));
  }
}

}  // namespace model_audit
