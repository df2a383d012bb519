/**
 * Where an audit ran, for its history: the commit, branch and CI run (read from the variables CI
 * systems set, else from git in the working folder) and a fingerprint of the machine class (the CPU
 * facts every report already carries), so that runs on one kind of runner form one series.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Environment } from '../system/environment.js';

export interface RunContext {
  gitCommit: string | null;
  gitBranch: string | null;
  /** github, gitlab, buildkite, circleci, jenkins, azure, or 'ci' for another CI that sets CI=true; null outside CI. */
  ciProvider: string | null;
  ciRunId: string | null;
  /** A name for the machine the user chose (MODEL_AUDIT_MACHINE), e.g. "graviton3-runner". */
  machineLabel: string | null;
}

type Env = Record<string, string | undefined>;

interface Provider {
  name: string;
  detect: string;
  commit: string[];
  branch: string[];
  run: string[];
}

// Each CI's own variables; the first one set wins. A pull request's branch comes before the ref.
const providers: Provider[] = [
  { name: 'github', detect: 'GITHUB_ACTIONS', commit: ['GITHUB_SHA'], branch: ['GITHUB_HEAD_REF', 'GITHUB_REF_NAME'], run: ['GITHUB_RUN_ID'] },
  { name: 'gitlab', detect: 'GITLAB_CI', commit: ['CI_COMMIT_SHA'], branch: ['CI_MERGE_REQUEST_SOURCE_BRANCH_NAME', 'CI_COMMIT_BRANCH', 'CI_COMMIT_REF_NAME'], run: ['CI_PIPELINE_ID'] },
  { name: 'buildkite', detect: 'BUILDKITE', commit: ['BUILDKITE_COMMIT'], branch: ['BUILDKITE_BRANCH'], run: ['BUILDKITE_BUILD_ID'] },
  { name: 'circleci', detect: 'CIRCLECI', commit: ['CIRCLE_SHA1'], branch: ['CIRCLE_BRANCH'], run: ['CIRCLE_WORKFLOW_ID', 'CIRCLE_BUILD_NUM'] },
  { name: 'jenkins', detect: 'JENKINS_URL', commit: ['GIT_COMMIT'], branch: ['BRANCH_NAME', 'GIT_BRANCH'], run: ['BUILD_TAG', 'BUILD_ID'] },
  { name: 'azure', detect: 'TF_BUILD', commit: ['BUILD_SOURCEVERSION'], branch: ['SYSTEM_PULLREQUEST_SOURCEBRANCH', 'BUILD_SOURCEBRANCHNAME'], run: ['BUILD_BUILDID'] },
];

function first(env: Env, names: string[]): string | null {
  for (const n of names) {
    const v = env[n]?.trim();
    if (v) return v;
  }
  return null;
}

function git(args: string[], cwd: string): string | null {
  try {
    const out = execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    return out || null;
  } catch {
    return null;
  }
}

/**
 * The commit, branch and CI run of this audit. MODEL_AUDIT_COMMIT, MODEL_AUDIT_BRANCH and
 * MODEL_AUDIT_MACHINE override what is found; outside CI, git in `cwd` is asked (nothing when it
 * is not a repository).
 */
export function runContext(env: Env = process.env, cwd: string = process.cwd()): RunContext {
  const provider = providers.find((p) => env[p.detect]) ?? null;
  let commit = first(env, ['MODEL_AUDIT_COMMIT', ...(provider?.commit ?? [])]);
  let branch = first(env, ['MODEL_AUDIT_BRANCH', ...(provider?.branch ?? [])]);
  if (commit === null) commit = git(['rev-parse', 'HEAD'], cwd);
  if (branch === null) {
    const b = git(['rev-parse', '--abbrev-ref', 'HEAD'], cwd);
    branch = b === 'HEAD' ? null : b;
  }
  const ci = provider !== null || /^(1|true)$/i.test(env.CI ?? '');
  return {
    gitCommit: commit,
    gitBranch: branch?.replace(/^refs\/heads\//, '') ?? null,
    ciProvider: provider?.name ?? (ci ? 'ci' : null),
    ciRunId: provider ? first(env, provider.run) : null,
    machineLabel: env.MODEL_AUDIT_MACHINE?.trim() || null,
  };
}

/** The facts that make two machines one kind for a history: CPU model and architecture, ISA features, CPUs and cores. */
export interface MachineFingerprint {
  /**
   * sha256 of the CPU facts, first 16 hex digits. The kernel is recorded but not hashed: hosted CI
   * runners move to a new kernel build every few weeks, and a series should not break each time.
   */
  id: string;
  cpuModel: string;
  architecture: string;
  isa: string[];
  logicalCpus: number;
  physicalCores: number;
  kernel: string;
}

export function machineFingerprint(env: Environment): MachineFingerprint {
  const facts = {
    cpuModel: env.cpu.model,
    architecture: env.cpu.architecture,
    isa: [...env.cpu.isa].sort(),
    logicalCpus: env.cpu.logicalCpus,
    physicalCores: env.cpu.physicalCores,
  };
  const id = createHash('sha256').update(JSON.stringify(facts)).digest('hex').slice(0, 16);
  return { id, ...facts, kernel: env.os.kernel };
}
