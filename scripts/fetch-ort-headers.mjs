// Puts the ONNX Runtime C API headers where CMakeLists.txt looks for them.
//
// onnxruntime-node ships the library but no headers, so they come from Debian's
// libonnxruntime-dev, fetched with a private apt configuration under .deps/ (nothing is
// installed system-wide) and checked against a pinned sha256. The C API is backward
// compatible, so headers of API version 21 drive any newer library.
// ORT_INCLUDE_DIR points the build at headers of your own instead.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const depsDir = join(root, '.deps');
const headerDir = join(depsDir, 'onnxruntime', 'include');
const headerName = 'onnxruntime_c_api.h';

const PACKAGE = 'libonnxruntime-dev';
const VERSION = '1.21.0+dfsg-1';
const SUITE = 'trixie';
// The headers are the same for every architecture; always fetching the amd64 .deb keeps one pin.
const ARCH = 'amd64';
const SHA256 = '14f7d959d5deacbcf1504830d4189f91fc67382b399ed9ae9d3aa9c4050ced08';

export function ortIncludeDir() {
  const fromEnv = process.env.ORT_INCLUDE_DIR;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, headerName))) {
      throw new Error(`ORT_INCLUDE_DIR=${fromEnv} does not contain ${headerName}`);
    }
    return resolve(fromEnv);
  }
  return headerDir;
}

/** The Debian mirror this machine already uses, so the fetch goes where apt already goes. */
export function debianMirror() {
  const candidates = [];
  const sourcesDir = '/etc/apt/sources.list.d';
  if (existsSync(sourcesDir)) {
    for (const f of readdirSync(sourcesDir)) {
      if (f.endsWith('.sources') || f.endsWith('.list')) candidates.push(join(sourcesDir, f));
    }
  }
  if (existsSync('/etc/apt/sources.list')) candidates.push('/etc/apt/sources.list');
  for (const file of candidates) {
    const text = readFileSync(file, 'utf8');
    for (const line of text.split('\n')) {
      const trimmed = line.trim();
      if (trimmed.startsWith('#')) continue;
      let m = /^URIs:\s*(\S+)/i.exec(trimmed);
      if (!m) m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(trimmed);
      if (m && /\/debian\/?$/.test(m[1])) return m[1].replace(/\/$/, '');
    }
  }
  return 'http://deb.debian.org/debian';
}

/**
 * apt-get options for a private apt under `aptDir` (emptied first): its own sources list (one
 * Debian suite, one architecture), lists, cache and an empty status, so that nothing of the
 * system's apt state is read or changed. `aptDir/debs` is made for downloads.
 */
export function privateApt(aptDir, arch, suite) {
  rmSync(aptDir, { recursive: true, force: true });
  for (const d of ['lists/partial', 'cache/archives/partial', 'etc', 'debs']) mkdirSync(join(aptDir, d), { recursive: true });
  const sourceList = join(aptDir, 'etc', 'sources.list');
  const status = join(aptDir, 'etc', 'status');
  writeFileSync(sourceList, `deb [arch=${arch}] ${debianMirror()} ${suite} main\n`);
  writeFileSync(status, '');
  return [
    '-o', `Dir::Etc::sourcelist=${sourceList}`,
    '-o', 'Dir::Etc::sourceparts=-',
    '-o', `Dir::State::Lists=${join(aptDir, 'lists')}`,
    '-o', `Dir::Cache=${join(aptDir, 'cache')}`,
    '-o', `Dir::State::status=${status}`,
    '-o', `APT::Architecture=${arch}`,
    '-o', 'APT::Architectures::=' + arch,
    '-o', 'Debug::NoLocking=1',
    '-o', 'APT::Sandbox::User=root',
  ];
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function fetchOrtHeaders({ log = console.log } = {}) {
  if (process.env.ORT_INCLUDE_DIR) return ortIncludeDir();
  if (existsSync(join(headerDir, headerName))) return headerDir;

  const aptDir = join(depsDir, 'apt');
  const aptOptions = privateApt(aptDir, ARCH, SUITE);
  const hint = `Set ORT_INCLUDE_DIR to a folder holding ${headerName} (ONNX Runtime >= 1.21) to build without it.`;
  try {
    log(`model-audit: fetching ONNX Runtime C headers (${PACKAGE} ${VERSION}, Debian ${SUITE})`);
    execFileSync('apt-get', [...aptOptions, '-qq', 'update'], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('apt-get', [...aptOptions, '-qq', 'download', `${PACKAGE}:${ARCH}=${VERSION}`], {
      cwd: join(aptDir, 'debs'),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    const stderr = err.stderr ? String(err.stderr).trim() : String(err.message);
    throw new Error(`could not download ${PACKAGE} ${VERSION} with apt-get: ${stderr}\n${hint}`);
  }
  const deb = readdirSync(join(aptDir, 'debs')).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download left no .deb for ${PACKAGE}.\n${hint}`);
  const debPath = join(aptDir, 'debs', deb);
  const actual = sha256(debPath);
  if (actual !== SHA256) {
    throw new Error(`${deb}: sha256 ${actual} does not match the pinned ${SHA256}; refusing to use it.\n${hint}`);
  }
  const extractDir = join(aptDir, 'extract');
  execFileSync('dpkg-deb', ['-x', debPath, extractDir]);
  const from = join(extractDir, 'usr', 'include', 'onnxruntime');
  mkdirSync(dirname(headerDir), { recursive: true });
  rmSync(headerDir, { recursive: true, force: true });
  execFileSync('cp', ['-r', from, headerDir]);
  rmSync(aptDir, { recursive: true, force: true });
  return headerDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(fetchOrtHeaders());
  } catch (err) {
    console.error(`model-audit: ${err.message}`);
    process.exit(1);
  }
}
