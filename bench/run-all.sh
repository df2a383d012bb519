#!/usr/bin/env bash
# Runs the whole bench in the order bench/README.md reports it (about 6 minutes on a 2-CPU machine),
# except the 10-minute soak (node bench/soak.mjs) and the 2 s variant of compare-false-alarms.
#   bench/run-all.sh
# First freezes the SDK (dist/ + addon) into build/bench/sdk so every script measures one build,
# then runs each script once the machine has been idle for 5 s. Each script's table goes to
# stdout and to bench/results/<name>.md; its raw data to bench/results/<name>.json.
set -uo pipefail
cd "$(dirname "$0")/.."
out=bench/results
mkdir -p "$out"
status=0

node bench/build-reference.mjs || exit 1
node bench/snapshot-sdk.mjs || exit 1
export BENCH_SDK=build/bench/sdk

run() { # run <name> <command...>
  local name=$1; shift
  node bench/wait-idle.mjs
  { printf '$ BENCH_SDK=%s' "$BENCH_SDK"; printf ' %q' "$@"; printf '\n'; } | tee "$out/$name.md"
  "$@" | tee -a "$out/$name.md"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then echo "(exit status $rc)" | tee -a "$out/$name.md"; status=1; fi
}

run harness node bench/harness.mjs
run fidelity node bench/fidelity.mjs
run fidelity-2 node bench/fidelity.mjs --out fidelity-2
run fidelity-ab-alloc-count node bench/fidelity.mjs --out fidelity-ab-alloc-count --variant-open-options '{"countAllocations":false}'
run js-paths taskset -c 1 node bench/js-paths.mjs
run js-paths-unpinned node bench/js-paths.mjs --out js-paths-unpinned
run input-values node bench/input-values.mjs
run drift node bench/drift.mjs
run drift-onnx node bench/drift.mjs --runtime onnx --out drift-onnx
run memory node bench/memory.mjs
run compare-false-alarms node bench/compare-false-alarms.mjs
exit $status
