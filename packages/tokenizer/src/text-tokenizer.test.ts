// Checks encode/decode of @lora-tle/tokenizer against the reference implementation: the ids and
// decodes recorded by Python `tokenizers` (test-fixtures/make_tokenizer.py → expected.json).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoraTleError } from '@lora-tle/spec';
import { describe, expect, it } from 'vitest';
import { loadTokenizer, loadTokenizerFromDir } from './index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-fixtures');
const TINY_TLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'fixtures', 'tiny-tle');

interface ReferenceCase {
  text: string;
  ids: number[];
  idsWithSpecial: number[];
  decoded: string;
  decodedWithSpecialSkipped: string;
  decodedWithSpecialKept: string;
}
interface Reference {
  vocabSize: number;
  bosId: number | null;
  eosId: number | null;
  padId: number | null;
  cases: ReferenceCase[];
}

function readReference(name: string): Reference {
  return JSON.parse(readFileSync(join(FIXTURES, name, 'expected.json'), 'utf8')) as Reference;
}

describe.each(['byte-level', 'metaspace'])('%s tokenizer against Python tokenizers', (name) => {
  const reference = readReference(name);

  it('has the reference vocab size and special ids', async () => {
    const tokenizer = await loadTokenizerFromDir(join(FIXTURES, name));
    expect(tokenizer.vocabSize).toBe(reference.vocabSize);
    expect(tokenizer.bosId).toBe(reference.bosId);
    expect(tokenizer.eosId).toBe(reference.eosId);
    expect(tokenizer.padId).toBe(reference.padId);
  });

  it('covers at least 20 probes including unicode, whitespace runs and code', () => {
    const texts = reference.cases.map((entry) => entry.text);
    expect(texts.length).toBeGreaterThanOrEqual(20);
    expect(texts.some((text) => /\p{Extended_Pictographic}/u.test(text))).toBe(true);
    expect(texts.some((text) => /\p{Script=Han}/u.test(text))).toBe(true);
    expect(texts.some((text) => /[éïü]/.test(text))).toBe(true);
    expect(texts.some((text) => / {3,}/.test(text))).toBe(true);
    expect(texts.some((text) => text.includes('return a + b'))).toBe(true);
  });

  it.each(reference.cases.map((entry) => [JSON.stringify(entry.text), entry] as const))('encodes and decodes %s like Python', async (_label, entry) => {
    const tokenizer = await loadTokenizerFromDir(join(FIXTURES, name));
    expect(tokenizer.encode(entry.text, { addSpecialTokens: false })).toEqual(entry.ids);
    expect(tokenizer.encode(entry.text)).toEqual(entry.idsWithSpecial);
    expect(tokenizer.decode(entry.ids)).toBe(entry.decoded);
    expect(tokenizer.decode(entry.idsWithSpecial, { skipSpecialTokens: true })).toBe(entry.decodedWithSpecialSkipped);
    expect(tokenizer.decode(entry.idsWithSpecial, { skipSpecialTokens: false })).toBe(entry.decodedWithSpecialKept);
  });
});

describe('loadTokenizer', () => {
  const tokenizerJson = JSON.parse(readFileSync(join(FIXTURES, 'byte-level', 'tokenizer.json'), 'utf8')) as Record<string, unknown>;

  it('works from parsed objects without a config (no special ids then)', () => {
    const tokenizer = loadTokenizer({ tokenizerJson });
    expect(tokenizer.bosId).toBeNull();
    expect(tokenizer.decode(tokenizer.encode('Answer: 42', { addSpecialTokens: false }))).toBe('Answer: 42');
    expect(tokenizer.decode([])).toBe('');
  });

  it('rejects a file that is not a tokenizer.json with E_TOKENIZER', () => {
    expect(() => loadTokenizer({ tokenizerJson: { hello: 1 } })).toThrow(LoraTleError);
    expect(() => loadTokenizer({ tokenizerJson: { hello: 1 } })).toThrow(/E_TOKENIZER|model/);
    try {
      loadTokenizer({ tokenizerJson: { ...tokenizerJson, model: { type: 'Nonsense' } } });
      expect.unreachable();
    } catch (error) {
      expect((error as LoraTleError).code).toBe('E_TOKENIZER');
    }
  });

  it('rejects a config whose special token is not in the vocabulary', () => {
    expect(() => loadTokenizer({ tokenizerJson, tokenizerConfig: { eos_token: '<|not-here|>' } })).toThrow(/not in the vocabulary/);
  });

  it('rejects ids outside the vocabulary instead of decoding them as garbage', () => {
    const tokenizer = loadTokenizer({ tokenizerJson });
    expect(() => tokenizer.decode([5, tokenizer.vocabSize])).toThrow(/outside the tokenizer vocabulary/);
    expect(() => tokenizer.decode([-1])).toThrow(LoraTleError);
  });

  it('reports a missing directory as E_NOT_FOUND', async () => {
    await expect(loadTokenizerFromDir(join(FIXTURES, 'no-such-dir'))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});

describe.skipIf(!existsSync(join(TINY_TLE, 'tokenizer.json')))('fixtures/tiny-tle tokenizer (skipped until that fixture exists)', () => {
  it('loads and round-trips the probes', async () => {
    const tokenizer = await loadTokenizerFromDir(TINY_TLE);
    for (const entry of readReference('byte-level').cases) {
      expect(tokenizer.decode(tokenizer.encode(entry.text, { addSpecialTokens: false }))).toBe(entry.text);
    }
  });
});
