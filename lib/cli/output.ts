/**
 * Where the command writes: the output folder checked before any measuring starts, files written
 * atomically (a temporary file renamed over the target), and a fallback when the folder fails at
 * the end.
 */
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { OptionsError } from '../errors.js';

/** Pseudo-filesystems where no report belongs (and where a write can hang or mean something else). */
const refusedRoots = ['/proc', '/sys', '/dev'];

/**
 * Checks that `dir` can hold the reports, creating it when its parent exists, and proves it with
 * a probe file. Throws an OptionsError (exit 2) naming the problem; never hangs.
 */
export function prepareOutputDir(dir: string, flag = '--out'): string {
  const path = resolve(dir);
  const refused = refusedRoots.find((r) => path === r || path.startsWith(r + sep));
  if (refused) throw new OptionsError(`${flag} ${path} is under ${refused}, which holds no files of yours; pick a folder for the reports`, { option: flag });
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) throw new OptionsError(`${flag} ${path} is a file; give a folder for the reports`, { option: flag });
  } else {
    const parent = dirname(path);
    if (!existsSync(parent)) throw new OptionsError(`${flag} ${path}: its parent folder ${parent} does not exist`, { option: flag });
    if (!statSync(parent).isDirectory()) throw new OptionsError(`${flag} ${path}: ${parent} is a file, not a folder`, { option: flag });
    try {
      mkdirSync(path);
    } catch (err) {
      throw new OptionsError(`${flag} ${path} cannot be created (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { option: flag });
    }
  }
  const probe = join(path, `.model-audit-write-test-${process.pid}`);
  try {
    accessSync(path, constants.W_OK);
    writeFileSync(probe, 'probe');
    rmSync(probe, { force: true });
  } catch (err) {
    throw new OptionsError(`${flag} ${path} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { option: flag });
  }
  return path;
}

/** Writes `text` to `path` through a temporary file in the same folder: a reader sees the old file or the new, never half of one. */
export function writeAtomically(path: string, text: string): void {
  const temporary = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  }
}

/** Where a report goes when its folder failed: the system's temporary folder. */
export function fallbackPath(name: string): string {
  return join(tmpdir(), `model-audit-${process.pid}-${Date.now()}-${name}`);
}
