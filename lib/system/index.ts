/**
 * model-audit/system: the machine and the runtime libraries: the environment fingerprint and its
 * parts, the harness's own cost, where runtime libraries are found, allocation counters, and the
 * constraints a process can put on itself.
 */
export { environment, allowedCpus, smtSiblings, governorOf, parseCpuList, harnessInfo } from './environment.js';
export type { Environment, CpuFacts, HarnessInfo } from './environment.js';
export { runtimeInfo, describeRuntime, resolveLibraryPath, packagedLibraryPath, runtimeLibraryEnv } from './runtimes.js';
export type { RuntimeKind, RuntimeLibraryInfo, RuntimeInfoOptions } from './runtimes.js';
export { runtimeMemory, processMemory } from './memory.js';
export type { AllocationCounters, MemoryPhase, PerInferenceMemory, ProcessMemory, MemorySnapshot, RuntimeMemory } from './memory.js';
export { pinProcess, limitAddressSpace } from './process.js';
export type { AddressSpaceLimit } from './process.js';
