// The measurement entry points: each copies its options into plain structs, then runs the loop on
// a thread the addon owns and hands back raw samples.
#pragma once

#include <napi.h>

#include <memory>

namespace model_audit {

struct SessionHolder;

// session.benchmark(feeds, options) -> Promise<LatencySamples>
Napi::Value StartBenchmark(const Napi::CallbackInfo& info, std::shared_ptr<SessionHolder> holder);
// throughputClosed(sessions, feeds, options) -> Promise<ClosedLoopSamples>
Napi::Value ThroughputClosed(const Napi::CallbackInfo& info);
// throughputOpen(sessions, feeds, options) -> Promise<OpenLoopSamples>
Napi::Value ThroughputOpen(const Napi::CallbackInfo& info);
// measureHarness() -> { harnessOverheadNs, clock: {...} }
Napi::Value HarnessInfo(const Napi::CallbackInfo& info);

}  // namespace model_audit
