// When the asset preparation trusts fixtures/tiny-tle: only when every file it needs exists with
// the sha256 recorded in hashes.json (the fixture generator writes hashes.json last), so a fixture
// being regenerated is never packed half-written. Small fake files; no model is built here.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { realFixtureReady } from '../scripts/prepare-assets.js';

const NEEDED = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
for (const task of ['math', 'science', 'code', 'reading']) {
  NEEDED.push(`adapters/${task}/adapter_config.json`, `adapters/${task}/adapter_model.safetensors`, `data/${task}/train.jsonl`, `data/${task}/test.jsonl`);
}

function writeFixture(root: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const file of NEEDED) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), `content of ${file}`);
    hashes[file] = createHash('sha256').update(`content of ${file}`).digest('hex');
  }
  writeFileSync(join(root, 'hashes.json'), JSON.stringify(hashes));
  return hashes;
}

describe('realFixtureReady', () => {
  const roots: string[] = [];
  const fixture = (): string => {
    const root = mkdtempSync(join(tmpdir(), 'lora-tle-web-fixture-'));
    roots.push(root);
    return root;
  };
  afterEach(() => roots.splice(0).forEach((root) => rmSync(root, { recursive: true, force: true })));

  it('accepts a fixture whose files match hashes.json', () => {
    const root = fixture();
    writeFixture(root);
    expect(realFixtureReady(root)).toBe(true);
  });

  it('refuses a changed file, a missing file, a file hashes.json does not list, and no hashes.json', () => {
    const changed = fixture();
    writeFixture(changed);
    writeFileSync(join(changed, 'tokenizer.json'), 'retrained');
    expect(realFixtureReady(changed)).toBe(false);

    const missing = fixture();
    writeFixture(missing);
    rmSync(join(missing, 'adapters', 'reading'), { recursive: true });
    expect(realFixtureReady(missing)).toBe(false);

    const unlisted = fixture();
    const hashes = writeFixture(unlisted);
    delete hashes['data/code/test.jsonl'];
    writeFileSync(join(unlisted, 'hashes.json'), JSON.stringify(hashes));
    expect(realFixtureReady(unlisted)).toBe(false);

    const unhashed = fixture();
    writeFixture(unhashed);
    rmSync(join(unhashed, 'hashes.json'));
    expect(realFixtureReady(unhashed)).toBe(false);
  });
});
