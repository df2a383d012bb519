/**
 * The JSON Schemas shipped in the package's schema/ folder.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const schemaDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schema');

export function readSchema(name: 'config' | 'report'): Record<string, unknown> {
  return JSON.parse(readFileSync(join(schemaDir, `${name}.schema.json`), 'utf8')) as Record<string, unknown>;
}
