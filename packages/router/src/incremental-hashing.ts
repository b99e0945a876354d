// Incremental `hashing` embedding of a growing context (prompt + generated text): when the new text
// extends the previous one, only the features touched by the appended text change — character
// n-grams ending past the old end (the old trailing pad is retracted), and the word n-grams of the
// last space-free chunk (a new token may extend its last word). The unnormalised vector u (D,),
// ‖u‖² and u·p_i for each profile mean p_i are kept up to date per changed feature, so a step costs
// O(appended text) in the hashing work instead of O(context). Exact, not approximate: the same
// features, sublinear tf and fit weights as embedOne (up to float rounding). Any other change of
// text (not an extension, a routing window that slides) re-embeds the whole text.
// Not the feature definition (hashing-features.ts) and not a strategy.

import { PAPER_COSINE_EPS } from '@lora-tle/mixing';
import { LoraTleError } from '@lora-tle/spec';
import type { HashingEmbedderSettings } from './hashing-embedder.js';
import type { IncrementalEmbedding, IncrementalUpdate } from './incremental-embedding.js';
import { createFeatureCounter, createTermFrequencyTable, type FeatureCounter, type TermFrequencyTable } from './feature-counter.js';
import { asciiWords, isJsSpace, normalizeHashingText, sublinearTf, visitCharNgrams, visitWordNgrams, WORD_PATTERN } from './hashing-features.js';

/** The router's IncrementalEmbedding, updated synchronously in O(appended text). */
export interface IncrementalHashingEmbedding extends IncrementalEmbedding {
  update(text: string): IncrementalUpdate;
  readonly synchronous: true;
}

export interface IncrementalHashingParts {
  settings: Readonly<HashingEmbedderSettings>;
  /** key → fit weight (0 drops the feature), or null for the unfitted embedder. */
  fitWeight: ((key: number) => number) | null;
  /** The profile means (N, D) the similarities are taken against. */
  profiles: readonly Float32Array[];
}

export function createIncrementalHashing({ settings, fitWeight, profiles }: IncrementalHashingParts): IncrementalHashingEmbedding {
  const { dimension, charMin, charMax, wordMax, charWeight, wordWeight, lowercase, foldDigits } = settings;
  profiles.forEach((profile, index) => {
    if (profile.length !== dimension) {
      throw new LoraTleError('E_INVALID_ARGUMENT', `profile ${index} has ${profile.length} dims but the hashing embedder makes ${dimension}; rebuild the profile with this embedder`);
    }
  });
  const profileNorms = profiles.map((profile) => Math.max(Math.sqrt(profile.reduce((sum, value) => sum + value * value, 0)), PAPER_COSINE_EPS));
  const adapterCount = profiles.length;
  // The profiles bucket-major, (D, N): one changed bucket reads its N profile values from one cache
  // line (float32, as the profiles are).
  const profileColumns = new Float32Array(dimension * adapterCount);
  profiles.forEach((profile, i) => profile.forEach((value, bucket) => (profileColumns[bucket * adapterCount + i] = value)));
  const vector = new Float64Array(dimension); // u (D,), unnormalised
  const dots = new Float64Array(profiles.length); // u·p_i (N,)
  // ‖u‖² in a typed-array slot: a double in a closure variable is boxed on every assignment, and the
  // apply visitors assign it once per changed feature, every routed token
  const squaredNorm = new Float64Array(1);
  const charCounts = createTermFrequencyTable(); // key → tf, only keys with fit weight > 0
  const wordCounts = createTermFrequencyTable();
  const charPending = createFeatureCounter(1 << 8); // key → tf change of this step
  const wordPending = createFeatureCounter(1 << 6);
  const words: string[] = []; // the words of `normalized`: the first wordCount entries (truncated only by a rebuild)
  const wordStarts: number[] = []; // their offsets in `normalized`
  let wordCount = 0;
  const wordPattern = new RegExp(WORD_PATTERN.source, WORD_PATTERN.flags); // own lastIndex
  let raw = ''; // the last text as given
  let rawHasSigma = false; // raw contains 'Σ' (its lower case depends on the characters around it)
  let normalized = ''; // normalizeHashingText(raw)
  let chunkStart = 0; // offset of the last space-free chunk of `normalized` (after its last space)
  let chunkWord = 0; // index of the first word of that chunk

  // Feature visitors, made once: each records a tf change of this step (net per key; applied by applyPending).
  const pend = (pending: FeatureCounter, change: number) => (key: number) => pending.add(key, change);
  const addChar = pend(charPending, 1);
  const removeChar = pend(charPending, -1);
  const addWord = pend(wordPending, 1);
  const removeWord = pend(wordPending, -1);

  // Apply the net tf changes: u[key mod D] ± w_type·w_fit(key)·((1+ln tf1) − (1+ln tf0)), ‖u‖² and
  // each u·p_i with it. Keys of fit weight 0 are never counted. One visitor per feature type, made
  // once: the optimised code of a closure made per call is held only by its closures, so every full
  // garbage collection would drop it and the next tokens would run unoptimised until it is compiled
  // again.
  const applyTo = (counts: TermFrequencyTable, typeWeight: number) => (key: number, change: number): void => {
    if (change === 0) return;
    const keyWeight = fitWeight === null ? 1 : fitWeight(key);
    if (keyWeight === 0) return;
    const before = counts.change(key, change);
    const after = before + change;
    const value = typeWeight * keyWeight * ((after === 0 ? 0 : sublinearTf(after)) - (before === 0 ? 0 : sublinearTf(before)));
    const signed = key & 0x80000000 ? -value : value;
    const bucket = key % dimension;
    const old = vector[bucket] as number;
    const updated = old + signed;
    vector[bucket] = updated;
    squaredNorm[0] = (squaredNorm[0] as number) + updated * updated - old * old;
    const column = bucket * adapterCount;
    for (let i = 0; i < adapterCount; i++) dots[i] = (dots[i] as number) + signed * (profileColumns[column + i] as number);
  };
  const applyChar = applyTo(charCounts, charWeight);
  const applyWord = applyTo(wordCounts, wordWeight);

  function applyPending(): void {
    charPending.forEachAndClear(applyChar);
    wordPending.forEachAndClear(applyWord);
  }

  // The words of `text` from `offset` on, written from index wordCount on.
  function tokenizeFrom(text: string, offset: number): void {
    const ascii = asciiWords(text, offset, words, wordStarts, wordCount);
    if (ascii >= 0) {
      wordCount = ascii;
      return;
    }
    wordPattern.lastIndex = offset;
    for (let match = wordPattern.exec(text); match !== null; match = wordPattern.exec(text)) {
      words[wordCount] = match[0];
      wordStarts[wordCount++] = match.index;
    }
  }

  function findLastChunk(text: string): void {
    chunkStart = text.lastIndexOf(' ') + 1;
    chunkWord = wordCount;
    while (chunkWord > 0 && (wordStarts[chunkWord - 1] as number) >= chunkStart) chunkWord--;
  }

  function rebuild(text: string): void {
    charCounts.clear();
    wordCounts.clear();
    vector.fill(0);
    squaredNorm[0] = 0;
    dots.fill(0);
    words.length = 0; // (no stale words kept from a longer text)
    wordStarts.length = 0;
    wordCount = 0;
    if (text.length > 0) {
      if (charMax > 0) visitCharNgrams(` ${text} `, charMin, charMax, 0, addChar);
      if (wordMax > 0) {
        tokenizeFrom(text, 0);
        visitWordNgrams(words, wordMax, 0, addWord, wordCount);
      }
      applyPending(); // ‖u‖² and u·p_i from u = 0 per changed feature: no pass over all D buckets
    }
    findLastChunk(text);
  }

  // P[from..] of the padded text P = ' ' + full + ' '.
  function paddedTail(full: string, from: number): string {
    return `${from === 0 ? ` ${full}` : full.slice(from - 1)} `;
  }

  // `text` = `normalized` + more (normalized non-empty). Padded P = ' ' + text + ' ', so index p of
  // P is index p − 1 of the text; the n-grams ending at P index ≥ L0 + 1 (the old trailing pad) change.
  function extend(text: string): void {
    if (charMax > 0) {
      const firstEnd = normalized.length + 1;
      const from = Math.max(0, firstEnd - charMax + 1); // first P index an affected n-gram can start at
      visitCharNgrams(paddedTail(normalized, from), charMin, charMax, firstEnd - from, removeChar);
      visitCharNgrams(paddedTail(text, from), charMin, charMax, firstEnd - from, addChar);
    }
    if (wordMax > 0) {
      // A space ends every word, so tokenizing from the last chunk's start matches the full tokenization.
      visitWordNgrams(words, wordMax, chunkWord, removeWord, wordCount);
      wordCount = chunkWord;
      tokenizeFrom(text, chunkStart);
      visitWordNgrams(words, wordMax, chunkWord, addWord, wordCount);
      findLastChunk(text);
    }
    applyPending();
  }

  // normalizeHashingText(raw + appended) from `normalized` in O(appended): lower-casing and digit
  // folding are per character and whitespace folding only joins across the boundary — except for
  // the context-dependent lower-casing of Σ (final sigma) and a surrogate pair split at the
  // boundary, where this returns null and the caller normalises the whole text.
  function normalizeAppended(appended: string): string | null {
    const last = raw.charCodeAt(raw.length - 1);
    if (rawHasSigma || appended.includes('Σ') || (last >= 0xd800 && last <= 0xdbff)) return null;
    let tail = lowercase ? appended.toLowerCase() : appended;
    if (foldDigits) tail = tail.replace(/[0-9]/g, '0');
    // whitespace runs → one space, across the boundary too, none at the end (a loop: a regular
    // expression costs more than the few characters a token appends)
    let joined = '';
    let space = isJsSpace(raw.charCodeAt(raw.length - 1)) && normalized.length > 0; // a space is pending
    let from = 0; // start of the current run of non-space characters
    for (let i = 0; i <= tail.length; i++) {
      if (i < tail.length && !isJsSpace(tail.charCodeAt(i))) continue;
      if (i > from) {
        joined += space && (joined.length > 0 || normalized.length > 0) ? ` ${tail.slice(from, i)}` : tail.slice(from, i);
        space = false;
      }
      if (i < tail.length) space = true;
      from = i + 1;
    }
    return normalized + joined;
  }

  const isZero = () => (charCounts.live === 0 && wordCounts.live === 0) || !((squaredNorm[0] as number) > 0);

  return {
    synchronous: true,
    update(text) {
      // substring + === rather than startsWith: V8's startsWith compares a context built by
      // concatenation (a cons string) character by character, O(context) µs per routed token
      const appended = raw.length > 0 && text.length >= raw.length && text.substring(0, raw.length) === raw ? normalizeAppended(text.slice(raw.length)) : null;
      const next = appended ?? normalizeHashingText(text, lowercase, foldDigits);
      if (appended === null) rawHasSigma = text.includes('Σ'); // else: neither part had one
      raw = text;
      if (next === normalized) return 'unchanged';
      const extension = normalized.length > 0 && (appended !== null || next.startsWith(normalized));
      if (extension) extend(next);
      else rebuild(next);
      normalized = next;
      return extension ? 'extended' : 'rebuilt';
    },
    similarities() {
      const similarities = new Float32Array(profiles.length); // (N,)
      if (isZero()) return similarities;
      const norm = Math.sqrt(squaredNorm[0] as number);
      for (let i = 0; i < profiles.length; i++) similarities[i] = (dots[i] as number) / norm / (profileNorms[i] as number);
      return similarities;
    },
    embedding() {
      const embedding = new Float32Array(dimension); // (D,)
      if (isZero()) return embedding;
      const inverseNorm = 1 / Math.sqrt(squaredNorm[0] as number);
      for (let bucket = 0; bucket < dimension; bucket++) embedding[bucket] = (vector[bucket] as number) * inverseNorm;
      return embedding;
    },
  };
}
