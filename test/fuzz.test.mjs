// Mutated model files opened and run in a plain child process, as a user's service would: no
// death and no hang, every refusal a typed error. The full run (10,000 files per format) is
// bench/fuzz-models.mjs; this is a short seeded pass of the same code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzModels, mutate } from '../bench/fuzz-models.mjs';

const typed = new Set(['ran', 'CorruptModelError', 'ModelFormatError', 'RuntimeFailureError', 'FeedError', 'UnsupportedConfigurationError', 'OptionsError', 'ModelReadError', 'Skipped']);

describe('mutated models', () => {
  it('mutations are seeded: the same seed makes the same file', () => {
    const bytes = Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff);
    assert.deepEqual(mutate(bytes, 42), mutate(bytes, 42));
    assert.notDeepEqual(mutate(bytes, 42).bytes, bytes);
  });

  it('200 files per format: no process dies or hangs, and every refusal is a typed error', async () => {
    const results = await fuzzModels({ count: 200, seed: 7 });
    for (const [format, r] of Object.entries(results)) {
      assert.equal(r.deaths, 0, `${format}: ${JSON.stringify(r.bad)}`);
      assert.equal(r.hangs, 0, `${format}: ${JSON.stringify(r.bad)}`);
      for (const outcome of Object.keys(r.byOutcome)) assert.ok(typed.has(outcome), `${format}: outcome ${outcome}`);
      assert.ok((r.byOutcome.ran ?? 0) > 0 && (r.byOutcome.CorruptModelError ?? 0) > 0, JSON.stringify(r.byOutcome));
    }
  });
});
