// Streaming detokenizer: takes generated token ids one at a time and emits text deltas whose
// concatenation equals decode(all ids). It never emits half a UTF-8 character: byte-level BPE and
// byte-fallback tokens can end mid-character, and decoding such a prefix yields U+FFFD, so text
// is held back until the decoded window no longer ends in U+FFFD (or until flush()).
// It is not a tokenizer: it only needs a decode function over id lists.
//
// Algorithm (the one text-generation-inference uses): keep two offsets into the ids,
//   prefixStart ≤ readStart ≤ ids.length.
// ids[prefixStart, readStart) were already emitted and are decoded again only as context, because
// decoders such as SentencePiece's Metaspace drop the leading space of the first token they see
// and so decode(a) + decode(b) ≠ decode(a + b). The delta is
//   decode(ids[prefixStart..]) minus its prefix decode(ids[prefixStart, readStart)).
// Each step decodes only a few tokens (the window every push; the prefix once per advance, and a
// one-token prefix from a per-id cache), so streaming costs O(tokens), not O(tokens²).

const REPLACEMENT_CHARACTER = '\uFFFD';

export interface StreamingDetokenizer {
  /** Adds one token id; returns the text that became final ('' when held back). */
  push(id: number): string;
  /** Returns whatever is still held back (possibly ending in U+FFFD for truly invalid bytes). */
  flush(): string;
  /** Everything emitted so far. */
  readonly text: string;
}

export function createStreamingDetokenizer(decode: (ids: readonly number[]) => string): StreamingDetokenizer {
  const ids: number[] = [];
  let prefixStart = 0;
  let readStart = 0;
  let emitted = '';
  let prefixText: string | null = null; // decode(ids[prefixStart, readStart)), kept until advance()
  // After each emitted token the prefix is that one token: its decoding is looked up, not redone.
  const singleTokenText = new Map<number, string>();
  const decodePrefix = (): string => {
    if (readStart === prefixStart) return '';
    if (readStart - prefixStart !== 1) return decode(ids.slice(prefixStart, readStart));
    const id = ids[prefixStart] as number;
    let text = singleTokenText.get(id);
    if (text === undefined) singleTokenText.set(id, (text = decode([id])));
    return text;
  };

  const pendingDelta = (): { delta: string; complete: boolean } => {
    prefixText ??= decodePrefix();
    const windowText = decode(ids.slice(prefixStart));
    if (!windowText.startsWith(prefixText)) {
      // A decoder rewrote already-emitted context (it should not for any HF decoder we know);
      // fall back to the exact but slower full decode so the stream stays equal to decode(ids).
      const fullText = decode(ids);
      const complete = !fullText.endsWith(REPLACEMENT_CHARACTER);
      return { delta: fullText.startsWith(emitted) ? fullText.slice(emitted.length) : '', complete };
    }
    const delta = windowText.slice(prefixText.length);
    return { delta, complete: delta.length > 0 && !delta.endsWith(REPLACEMENT_CHARACTER) };
  };

  const advance = (delta: string): string => {
    prefixStart = readStart;
    readStart = ids.length;
    prefixText = null;
    emitted += delta;
    return delta;
  };

  return {
    push(id) {
      ids.push(id);
      const { delta, complete } = pendingDelta();
      return complete ? advance(delta) : '';
    },
    flush() {
      if (readStart === ids.length) return '';
      return advance(pendingDelta().delta);
    },
    get text() {
      return emitted;
    },
  };
}
