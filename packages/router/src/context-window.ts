// The context window: what text the embedder sees — the whole context or its last W tokens.
// MiniLM truncates at 256 word pieces, which silently freezes the paper's routing on long contexts;
// a token window keeps routing responsive. Not a tokenizer: the caller passes `decode`.

import { LoraTleError } from '@lora-tle/spec';

export interface ContextWindow {
  /** Embed only the last `tokens` tokens of the context. */
  tokens: number;
  /** Token ids → text (the model's tokenizer). */
  decode: (tokenIds: readonly number[]) => string;
}

/** `text` when W is undefined or the context has ≤ W tokens, else decode(last W token ids). */
export function windowContext(text: string, tokenIds: readonly number[], tokens: number | undefined, decode?: (tokenIds: readonly number[]) => string): string {
  if (tokens === undefined || tokenIds.length <= tokens) return text;
  if (!Number.isInteger(tokens) || tokens < 1) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `the routing window must be a positive whole number of tokens, got ${tokens}`);
  }
  if (decode === undefined) {
    throw new LoraTleError('E_INVALID_ARGUMENT', 'a routing window of the last W tokens needs a decode function (the model tokenizer)');
  }
  return decode(tokenIds.slice(tokenIds.length - tokens));
}
