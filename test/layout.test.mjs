// The shape of lib/: no import circles (value or type), a small root entry, every subpath entry
// present and loadable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('lib/ layout', () => {
  it('has no import circle, type-only imports included, and a root entry of at most 35 values', () => {
    const r = spawnSync(process.execPath, ['scripts/import-graph.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const count = Number(/root entry: (\d+) runtime values/.exec(r.stdout)?.[1]);
    assert.ok(count > 10 && count <= 35, r.stdout);
  });

  it('every subpath export of package.json resolves to a module with exports', async () => {
    const { exports } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    for (const [subpath, target] of Object.entries(exports)) {
      if (typeof target !== 'object') continue;
      const module = await import(new URL(`../${target.import}`, import.meta.url).href);
      assert.ok(Object.keys(module).length > 0, `${subpath} exports nothing`);
    }
  });
});
