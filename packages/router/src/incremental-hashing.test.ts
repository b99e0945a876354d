// Tests the incremental hashing embedding against full re-embeds (embedOne + cosineSimilarities) at
// every step of texts grown piece by piece: random code-unit splits (words, multi-byte characters,
// lone surrogates), real tiny-tle token-by-token decodes, non-extensions, fitted and unfitted.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cosineSimilarities } from '@lora-tle/mixing';
import { loadTokenizer } from '@lora-tle/tokenizer';
import { describe, expect, it } from 'vitest';
import { createHashingEmbedder, fitHashingEmbedder, type HashingEmbedder } from './hashing-embedder.js';
import { asciiWords, isJsSpace, WORD_PATTERN } from './hashing-features.js';

const FIXTURE = fileURLToPath(new URL('../../../fixtures/tiny-tle/', import.meta.url));
const TOLERANCE = 1e-6;

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'b', 'E', 'x', 'Q', '7', '42', ' ', ' ', '  ', '\n', '\t', '.', ',', '#', '+', '=', 'é', 'Σ', 'ς', 'İ', '中', '文', '😀', '𝐀', 'the', 'Answer', ':', '_'];

const PIECES_WITHOUT_SIGMA = PIECES.filter((piece) => piece !== 'Σ'); // Σ sends every later step to the slow normalisation

function randomText(random: () => number, length: number, pieces = PIECES): string {
  let text = '';
  while (text.length < length) text += pieces[Math.floor(random() * pieces.length)];
  return text;
}

function randomProfiles(random: () => number, embedder: HashingEmbedder, count: number): Float32Array[] {
  const profiles = Array.from({ length: count }, (_, i) => embedder.embedOne(randomText(random, 40 + 20 * i)));
  profiles.push(Float32Array.from({ length: embedder.dimension }, () => random() - 0.5)); // not unit-norm
  return profiles;
}

/** Grows `text` through `prefixes`, checking the incremental state against a full re-embed at every step. */
function expectExactAlong(embedder: HashingEmbedder, profiles: Float32Array[], prefixes: readonly string[]): Record<string, number> {
  const incremental = embedder.createIncremental(profiles);
  const outcomes: Record<string, number> = { unchanged: 0, extended: 0, rebuilt: 0 };
  for (const prefix of prefixes) {
    outcomes[incremental.update(prefix)]! += 1;
    const full = embedder.embedOne(prefix);
    const expected = cosineSimilarities(full, profiles);
    const similarities = incremental.similarities();
    for (let i = 0; i < profiles.length; i++) expect(Math.abs(similarities[i]! - expected[i]!), `similarity ${i} of ${JSON.stringify(prefix.slice(-20))}`).toBeLessThan(TOLERANCE);
    const embedding = incremental.embedding();
    let worst = 0;
    for (let d = 0; d < full.length; d++) worst = Math.max(worst, Math.abs(embedding[d]! - full[d]!));
    expect(worst, `embedding of ${JSON.stringify(prefix.slice(-20))}`).toBeLessThan(TOLERANCE);
  }
  return outcomes;
}

function trainingTexts(adapter: string, count: number): string[] {
  const lines = readFileSync(`${FIXTURE}data/${adapter}/train.jsonl`, 'utf8').split('\n').filter((line) => line.trim() !== '');
  return lines.slice(0, count).map((line) => Object.values(JSON.parse(line) as Record<string, unknown>).filter((value) => typeof value === 'string').join('\n\n'));
}

describe('incremental hashing embedding', () => {
  it('equals the full re-embed at every step of random texts grown by random code-unit pieces (unfitted and fitted)', () => {
    const random = randomSource(7);
    const unfitted = createHashingEmbedder({ dimension: 512 });
    const fitted = fitHashingEmbedder({ one: Array.from({ length: 6 }, () => randomText(random, 80)), two: Array.from({ length: 6 }, () => randomText(random, 80)) }, { dimension: 512, minFraction: 0.3 });
    for (const embedder of [unfitted, fitted, createHashingEmbedder({ dimension: 256, charMin: 1, charMax: 2, wordMax: 3, lowercase: false, foldDigits: true })]) {
      for (let trial = 0; trial < 4; trial++) {
        const text = randomText(random, 300, trial % 2 === 0 ? PIECES_WITHOUT_SIGMA : PIECES);
        const prefixes: string[] = [];
        for (let end = 0; end < text.length; end += 1 + Math.floor(random() * 4)) prefixes.push(text.slice(0, end)); // splits words and surrogate pairs
        prefixes.push(text);
        const outcomes = expectExactAlong(embedder, randomProfiles(random, embedder, 3), prefixes);
        expect(outcomes['extended']).toBeGreaterThan(prefixes.length / 2); // the incremental path did the work
      }
    }
  });

  it('equals the full re-embed at every token of real tiny-tle texts decoded token by token', () => {
    const tokenizer = loadTokenizer({ tokenizerJson: JSON.parse(readFileSync(`${FIXTURE}tokenizer.json`, 'utf8')) });
    const tasks = { math: trainingTexts('math', 8), reading: trainingTexts('reading', 8), code: trainingTexts('code', 8), science: trainingTexts('science', 8) };
    const embedder = fitHashingEmbedder(tasks);
    const profiles = Object.values(tasks).map((texts) => {
      const mean = new Float32Array(embedder.dimension);
      for (const text of texts) embedder.embedOne(text).forEach((value, d) => (mean[d] = mean[d]! + value / texts.length));
      return mean;
    });
    const texts = [tasks.math[0]!, tasks.code[1]!, `${tasks.reading[2]!}\n\nÜnïcödé Σίσυφος 数学题 😀 naïve café — “quoted”`];
    for (const text of texts) {
      const ids = tokenizer.encode(text, { addSpecialTokens: false });
      const prefixes = ids.map((_, end) => tokenizer.decode(ids.slice(0, end + 1), { skipSpecialTokens: true }));
      expect(prefixes.at(-1)).toBe(text);
      const outcomes = expectExactAlong(embedder, profiles, prefixes);
      // rebuilt only at the first token and where a byte-fallback prefix ended in U+FFFD (a split multi-byte character)
      expect(outcomes['extended']! + outcomes['unchanged']!).toBeGreaterThan(ids.length * 0.8);
    }
  });

  it('falls back to a full re-embed when the text does not extend the previous one', () => {
    const embedder = createHashingEmbedder({ dimension: 512 });
    const profiles = randomProfiles(randomSource(3), embedder, 2);
    const incremental = embedder.createIncremental(profiles);
    const steps: Array<[string, string]> = [
      ['Question: how many apples', 'rebuilt'],
      ['Question: how many apples does Tom', 'extended'],
      ['Question: how many', 'rebuilt'], // shorter
      ['Answer: 12', 'rebuilt'], // different text
      ['ANSWER:   12 ', 'unchanged'], // same after lower-casing, whitespace folding and trimming
      ['', 'rebuilt'],
      ['x', 'rebuilt'],
    ];
    for (const [text, outcome] of steps) {
      expect(incremental.update(text), text).toBe(outcome);
      const expected = cosineSimilarities(embedder.embedOne(text), profiles);
      incremental.similarities().forEach((similarity, i) => expect(similarity).toBeCloseTo(expected[i]!, 6));
    }
    incremental.update('');
    expect([...incremental.similarities()]).toEqual([0, 0, 0]);
    expect(incremental.embedding().every((value) => value === 0)).toBe(true);
  });

  it('isJsSpace is exactly \\s, and asciiWords finds the words WORD_PATTERN finds in ASCII text (the per-token paths without regular expressions)', () => {
    for (let code = 0; code <= 0xffff; code++) expect(isJsSpace(code), `U+${code.toString(16)}`).toBe(/\s/.test(String.fromCharCode(code)));
    const random = randomSource(11);
    for (let trial = 0; trial < 200; trial++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 40) }, () => String.fromCharCode(Math.floor(random() * 128))).join('');
      const offset = Math.floor(random() * text.length);
      // written after `kept` earlier entries, over stale ones left beyond them
      const kept = Math.floor(random() * 3);
      const words = ['w0', 'w1', 'w2', 'stale', 'stale', 'stale'];
      const starts = [-1, -1, -1, -9, -9, -9];
      const count = asciiWords(text, offset, words, starts, kept);
      const pattern = new RegExp(WORD_PATTERN.source, WORD_PATTERN.flags);
      pattern.lastIndex = offset;
      const expected = [...text.matchAll(pattern)].filter((match) => match.index >= offset);
      expect(count).toBe(kept + expected.length);
      expect(words.slice(0, count), JSON.stringify(text)).toEqual([...['w0', 'w1', 'w2'].slice(0, kept), ...expected.map((match) => match[0])]);
      expect(starts.slice(kept, count)).toEqual(expected.map((match) => match.index));
    }
    const untouched = ['a'];
    expect(asciiWords('naïve', 0, untouched, [0], 1)).toBe(-1);
    expect(untouched).toEqual(['a']);
  });

  it('equals the full re-embed when ASCII text grows through every kind of JavaScript whitespace', () => {
    const random = randomSource(5);
    const spaces = ['\u00a0', '\u1680', '\u2000', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\v', '\f', '\r', '\n', '\t', ' ', '   '];
    const pieces = ['a', 'Zb', '7', '_x', '.', '#', '(', 'the', ...spaces];
    const embedder = createHashingEmbedder({ dimension: 512 });
    for (let trial = 0; trial < 4; trial++) {
      const text = (trial % 2 === 0 ? spaces[trial]! : '') + randomText(random, 200, pieces);
      const prefixes: string[] = [];
      for (let end = 1; end < text.length; end += 1 + Math.floor(random() * 3)) prefixes.push(text.slice(0, end));
      prefixes.push(text);
      const outcomes = expectExactAlong(embedder, randomProfiles(random, embedder, 2), prefixes);
      expect(outcomes['extended']).toBeGreaterThan(prefixes.length / 2);
    }
  });

  it('refuses profiles of another dimension', () => {
    const embedder = createHashingEmbedder({ dimension: 64 });
    expect(() => embedder.createIncremental([new Float32Array(32)])).toThrow(/32 dims/);
  });
});
