// What happens when a prompt does not fit the model context (max_position_embeddings of the pack):
// by default refuse with E_CONTEXT_OVERFLOW naming the limits; with `truncate: 'left'` keep the
// last tokens of the prompt (and its BOS) so that prompt + max new tokens fit. Not a chunker: long
// documents are the caller's business.

import { LoraTleError } from '@lora-tle/spec';

export type TruncatePolicy = 'none' | 'left';

/**
 * Returns the prompt ids to run. `promptIds` includes BOS when the model uses one (`bosTokenId`
 * is then kept as the first token after truncation).
 */
export function fitPromptToContext(
  promptIds: readonly number[],
  maxNewTokens: number,
  contextLength: number,
  truncate: TruncatePolicy,
  bosTokenId: number | null,
): number[] {
  if (promptIds.length + maxNewTokens <= contextLength) return [...promptIds];
  const keepsBos = bosTokenId !== null && promptIds[0] === bosTokenId;
  const room = contextLength - maxNewTokens - (keepsBos ? 1 : 0);
  if (truncate === 'left' && room >= 1) {
    const tail = promptIds.slice(promptIds.length - room);
    return keepsBos ? [bosTokenId, ...tail] : tail;
  }
  const advice =
    truncate === 'left'
      ? `lower max new tokens below ${contextLength - (keepsBos ? 2 : 1)} so that some prompt fits`
      : `shorten the prompt to at most ${Math.max(0, contextLength - maxNewTokens)} tokens, lower max new tokens, or pass truncate 'left' (CLI: --truncate left) to keep the end of the prompt`;
  throw new LoraTleError(
    'E_CONTEXT_OVERFLOW',
    `prompt of ${promptIds.length} tokens + ${maxNewTokens} new tokens exceeds the model context of ${contextLength} tokens; ${advice}`,
    { details: { promptTokens: promptIds.length, maxNewTokens, contextLength } },
  );
}
