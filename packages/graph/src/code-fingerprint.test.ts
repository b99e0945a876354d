// codeFingerprint changes with any code file of the folder and ignores other files; the package's
// own fingerprint is stable within a process.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { codeFingerprint, graphCodeFingerprint } from './code-fingerprint.js';

const root = mkdtempSync(join(tmpdir(), 'lora-tle-fingerprint-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('codeFingerprint', () => {
  it('changes when a code file changes, not when another file does', () => {
    const copy = join(root, 'src');
    cpSync(fileURLToPath(new URL('.', import.meta.url)), copy, { recursive: true });
    const before = codeFingerprint(copy);
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(join(copy, 'notes.md'), 'not code');
    expect(codeFingerprint(copy)).toBe(before);
    writeFileSync(join(copy, 'decoder-graph.ts'), '// another graph layout\n', { flag: 'a' });
    expect(codeFingerprint(copy)).not.toBe(before);
  });

  it("is this package's folder fingerprint, computed once", () => {
    expect(graphCodeFingerprint()).toBe(codeFingerprint(fileURLToPath(new URL('.', import.meta.url))));
    expect(graphCodeFingerprint()).toBe(graphCodeFingerprint());
  });
});
