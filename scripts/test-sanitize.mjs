// npm run test:sanitize: the addon built with AddressSanitizer and UBSan (build-asan/), and the
// test files that drive it run with the sanitizer runtimes preloaded into node. Any report stops
// the process that made it (halt_on_error), so the test fails. Leak detection is off: at exit it
// would report Node's and V8's own allocations, which are not ours; the addon's leaks are what the
// allocation counters and the soak tests look for.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNative } from './build-native.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build-asan', 'Release', 'model_audit.node');
const newest = (dir) => Math.max(...readdirSync(dir, { recursive: true }).map((f) => statSync(join(dir, String(f))).mtimeMs));
if (!existsSync(addon) || newest(join(root, 'native')) > statSync(addon).mtimeMs) buildNative({ out: join(root, 'build-asan'), sanitize: true });

const runtime = (name) => execFileSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
const preload = [runtime('libasan.so'), runtime('libubsan.so')];
for (const lib of preload) if (!existsSync(lib)) throw new Error(`${lib} not found: the sanitizer runtimes come with gcc (Debian's libasan8, libubsan1)`);

// Every test file that reaches the addon in this process or in its children, but the ones that
// spawn npm or a fresh install (package), which load their own build.
const files = ['open', 'run', 'bound', 'benchmark', 'throughput', 'workloads', 'memory', 'soak', 'errors', 'profile', 'abnormal', 'isolation', 'audit', 'fake-runtimes', 'failures'].map((f) => `test/${f}.test.mjs`);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    MODEL_AUDIT_ADDON: addon,
    MODEL_AUDIT_SANITIZE: '1',
    LD_PRELOAD: preload.join(' '),
    ASAN_OPTIONS: 'detect_leaks=0:allocator_may_return_null=1:halt_on_error=1:abort_on_error=0',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  },
});
process.exit(r.status ?? 1);
