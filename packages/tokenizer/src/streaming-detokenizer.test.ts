// The streaming detokenizer: the concatenated deltas equal the full decode for every prefix of
// every probe, and no delta ever carries a U+FFFD for valid UTF-8 text.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createStreamingDetokenizer, loadTokenizerFromDir } from './index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-fixtures');

function streamAll(decode: (ids: readonly number[]) => string, ids: readonly number[]): string[] {
  const stream = createStreamingDetokenizer(decode);
  const deltas = ids.map((id) => stream.push(id));
  deltas.push(stream.flush());
  return deltas;
}

describe('streaming over raw UTF-8 bytes (one id per byte: every split point)', () => {
  const bytesDecoder = new TextDecoder('utf-8');
  const decodeBytes = (ids: readonly number[]): string => bytesDecoder.decode(Uint8Array.from(ids));
  const texts = ['héllo wörld', '东京是日本的首都', '😀👍🏽🇫🇷 ok', '👨‍👩‍👧‍👦', 'plain ascii'];

  it.each(texts)('emits whole characters only for %s', (text) => {
    const ids = [...new TextEncoder().encode(text)];
    const deltas = streamAll(decodeBytes, ids);
    expect(deltas.join('')).toBe(text);
    for (const delta of deltas) expect(delta).not.toContain('\uFFFD');
    // Every delta is a whole number of code points of the text, emitted as soon as complete.
    expect(deltas.filter((delta) => delta !== '').join('')).toBe(text);
    expect(deltas.filter((delta) => delta !== '').length).toBe([...text].length);
  });

  it('flushes invalid trailing bytes as U+FFFD at the end, like a full decode', () => {
    const ids = [...new TextEncoder().encode('ok é')].slice(0, -1);
    const deltas = streamAll(decodeBytes, ids);
    expect(deltas.slice(0, -1).join('')).toBe('ok ');
    expect(deltas.join('')).toBe(decodeBytes(ids));
    expect(deltas[deltas.length - 1]).toBe('\uFFFD');
  });
});

describe('streaming with a decoder that drops the first leading space (SentencePiece Metaspace)', () => {
  const pieces = ['▁Hello', '▁world', ',', '▁how', '▁are', '▁you'];
  const decodePieces = (ids: readonly number[]): string => ids.map((id) => pieces[id]!).join('').replaceAll('▁', ' ').replace(/^ /, '');

  it('keeps the spaces that a piece-by-piece decode would lose', () => {
    const ids = [0, 1, 2, 3, 4, 5];
    expect(ids.map((id) => decodePieces([id])).join('')).not.toBe(decodePieces(ids)); // the naive way fails
    expect(streamAll(decodePieces, ids).join('')).toBe('Hello world, how are you');
  });
});

describe('decoding work per token', () => {
  it('decodes each pushed window once, and each one-token prefix once per distinct id', () => {
    const pieces = ['▁Hello', '▁world', ',', '▁how', '▁are', '▁you'];
    const calls: number[][] = [];
    const decode = (ids: readonly number[]): string => {
      calls.push([...ids]);
      return ids.map((id) => pieces[id]!).join('').replaceAll('▁', ' ').replace(/^ /, '');
    };
    const ids = [0, 1, 2, 1, 2, 1, 2, 3];
    expect(streamAll(decode, ids).join('')).toBe('Hello world, world, world, how');
    // the first push decodes its window [0] (empty prefix: no call); every later push one window of
    // 2 ids, and its one-token prefix only the first time that id is the prefix
    expect(calls.filter((call) => call.length === 2)).toHaveLength(ids.length - 1);
    expect(calls.filter((call) => call.length === 1).map((call) => call[0])).toEqual([0, 0, 1, 2]);
    expect(calls).toHaveLength(ids.length - 1 + 4);
  });
});

describe.each(['byte-level', 'metaspace'])('streaming with the %s fixture tokenizer', (name) => {
  const reference = JSON.parse(readFileSync(join(FIXTURES, name, 'expected.json'), 'utf8')) as { cases: Array<{ text: string; ids: number[] }> };

  it('equals the full decode for every prefix split, and never emits U+FFFD', async () => {
    const tokenizer = await loadTokenizerFromDir(join(FIXTURES, name));
    let heldBack = 0;
    for (const { ids } of reference.cases) {
      for (let end = 0; end <= ids.length; end++) {
        const prefix = ids.slice(0, end);
        const full = tokenizer.decode(prefix);
        const stream = tokenizer.createStreamingDetokenizer();
        let running = '';
        for (const id of prefix) {
          const delta = stream.push(id);
          if (delta === '' ) heldBack++;
          running += delta;
          expect(full.startsWith(running)).toBe(true);
          // The whole text is valid UTF-8, so a U+FFFD in a delta could only be half a character.
          expect(delta).not.toContain('\uFFFD');
        }
        expect(running + stream.flush()).toBe(full);
        expect(stream.text).toBe(full);
      }
    }
    expect(heldBack).toBeGreaterThan(0);
  });

  if (name === 'byte-level') {
    it('really splits characters across tokens in this fixture (so the hold-back is exercised)', async () => {
      const tokenizer = await loadTokenizerFromDir(join(FIXTURES, name));
      const splits = reference.cases.flatMap(({ ids }) => ids.map((_, end) => tokenizer.decode(ids.slice(0, end + 1)))).filter((text) => text.endsWith('\uFFFD'));
      expect(splits.length).toBeGreaterThan(0);
    });
  }

  it('skips special tokens when asked', async () => {
    const tokenizer = await loadTokenizerFromDir(join(FIXTURES, name));
    const ids = tokenizer.encode('Answer: 42 😀');
    const stream = tokenizer.createStreamingDetokenizer({ skipSpecialTokens: true });
    const text = ids.map((id) => stream.push(id)).join('') + stream.flush();
    expect(text).toBe(tokenizer.decode(ids, { skipSpecialTokens: true }));
    expect(text).not.toContain('<s>');
  });
});
