// The feature definition the `hashing` embedder shares between its full embedding
// (hashing-embedder.ts) and its incremental one (incremental-hashing.ts): text normalisation, the
// word pattern, the hash seeds of each feature type, n-gram visitors over a range and the sublinear
// term frequency. Not a vector builder: callers decide what to do with each feature key.

import { FNV_OFFSET_BASIS, fmix32, fnv1a, fnv1aStep } from './string-hash.js';

// A word is a run of letters, digits or '_'; every other non-space character is a word of its own.
export const WORD_PATTERN = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;
export const CHAR_SEED = fnv1aStep(FNV_OFFSET_BASIS, 0xe000); // private-use code units keep the feature
export const WORD_SEED = fnv1aStep(FNV_OFFSET_BASIS, 0xe001); // types apart in hash space
export const WORD_SEPARATOR = 0xe002;

/**
 * True for a code unit JavaScript's \s matches (and trim removes): the WhiteSpace and LineTerminator
 * characters of the language. For loops on the per-token path, where a regular expression costs
 * more than the few characters it looks at.
 */
export function isJsSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 ||
    code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff
  );
}

/**
 * Writes the words of `text` from `offset` on, as WORD_PATTERN finds them, into `words` (and their
 * offsets into `starts`) from index `count` on, when that part of the text is ASCII (letters, digits
 * and '_' make a word, any other non-space character is a word of its own), and returns the new
 * count; returns −1, writing nothing, when it is not, so the caller runs the pattern. The arrays are
 * overwritten, not truncated: the caller keeps the count (shrinking an array's length is a runtime
 * call on the per-token path).
 */
export function asciiWords(text: string, offset: number, words: string[], starts: number[], count: number): number {
  for (let i = offset; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return -1;
  let start = -1; // start of the word being read
  for (let i = offset; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0x20;
    const wordChar = (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x5f;
    if (wordChar) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0) {
      words[count] = text.slice(start, i);
      starts[count++] = start;
      start = -1;
    }
    if (i < text.length && !isJsSpace(code)) {
      words[count] = text.charAt(i);
      starts[count++] = i;
    }
  }
  return count;
}

/** Lower-case (optional), fold digits (optional), collapse whitespace runs to one space, trim. */
export function normalizeHashingText(text: string, lowercase: boolean, foldDigits: boolean): string {
  let normalized = lowercase ? text.toLowerCase() : text;
  if (foldDigits) normalized = normalized.replace(/[0-9]/g, '0');
  return normalized.replace(/\s+/g, ' ').trim();
}

/** 1 + ln tf: the sublinear term frequency (tf ≥ 1). */
export function sublinearTf(tf: number): number {
  return tf === 1 ? 1 : 1 + Math.log(tf);
}

/**
 * Visit the key of every character n-gram (charMin..charMax code units) of `padded` whose last
 * code unit is at index ≥ firstEnd. firstEnd 0 visits them all.
 */
export function visitCharNgrams(padded: string, charMin: number, charMax: number, firstEnd: number, visit: (key: number) => void): void {
  for (let start = Math.max(0, firstEnd - charMax + 1); start + charMin <= padded.length; start++) {
    let hash = CHAR_SEED;
    const stop = Math.min(start + charMax, padded.length);
    for (let end = start; end < stop; end++) {
      hash = fnv1aStep(hash, padded.charCodeAt(end));
      if (end + 1 - start >= charMin && end >= firstEnd) visit(fmix32(hash));
    }
  }
}

/**
 * Visit the key of every word n-gram (1..wordMax words) of the first `count` words whose last word
 * is at index ≥ firstWord.
 */
export function visitWordNgrams(words: readonly string[], wordMax: number, firstWord: number, visit: (key: number) => void, count = words.length): void {
  for (let end = firstWord; end < count; end++) {
    for (let start = end; start > end - wordMax && start >= 0; start--) {
      let hash = WORD_SEED;
      for (let index = start; index <= end; index++) {
        if (index > start) hash = fnv1aStep(hash, WORD_SEPARATOR);
        hash = fnv1a(words[index] as string, 0, (words[index] as string).length, hash);
      }
      visit(fmix32(hash));
    }
  }
}
