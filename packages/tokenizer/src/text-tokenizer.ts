// The tokenizer lora-tle uses: tokenizer.json (+ tokenizer_config.json) loaded through
// @huggingface/tokenizers (the tokenizer of transformers.js), wrapped in a small typed surface
// with the special-token ids the engine needs. Platform neutral: it takes parsed JSON objects;
// reading files is load-tokenizer-from-dir.ts. It is not a chat-template renderer.

import { Tokenizer } from '@huggingface/tokenizers';
import { LoraTleError } from '@lora-tle/spec';
import { createStreamingDetokenizer, type StreamingDetokenizer } from './streaming-detokenizer.js';

export interface EncodeOptions {
  /** Apply the tokenizer's post-processor (e.g. prepend BOS). Default true, as in transformers. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, PAD, …) from the text. Default false. */
  skipSpecialTokens?: boolean;
}

export interface TextTokenizer {
  /** Number of ids the tokenizer knows, added tokens included (may be below the model's vocab_size). */
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: readonly number[], options?: DecodeOptions): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  isSpecialId(id: number): boolean;
  /** A detokenizer that takes ids one by one and emits text deltas (see streaming-detokenizer.ts). */
  createStreamingDetokenizer(options?: DecodeOptions): StreamingDetokenizer;
}

export interface TokenizerFiles {
  /** Parsed tokenizer.json. */
  tokenizerJson: unknown;
  /** Parsed tokenizer_config.json; optional (special tokens then come from tokenizer.json only). */
  tokenizerConfig?: unknown;
}

type JsonObject = Record<string, unknown>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** tokenizer_config.json names a special token as a string or as an AddedToken object. */
function specialTokenContent(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (isJsonObject(value) && typeof value['content'] === 'string') return value['content'];
  return null;
}

export function loadTokenizer(files: TokenizerFiles): TextTokenizer {
  const { tokenizerJson } = files;
  const tokenizerConfig = files.tokenizerConfig ?? {};
  if (!isJsonObject(tokenizerJson) || !isJsonObject(tokenizerJson['model'])) {
    throw new LoraTleError('E_TOKENIZER', 'tokenizer.json has no "model" object; pass the parsed tokenizer.json of a Hugging Face fast tokenizer');
  }
  if (!isJsonObject(tokenizerConfig)) {
    throw new LoraTleError('E_TOKENIZER', 'tokenizer_config.json must be a JSON object');
  }
  const normalizedJson = { added_tokens: [], ...tokenizerJson };
  let inner: Tokenizer;
  try {
    inner = new Tokenizer(normalizedJson, tokenizerConfig);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new LoraTleError('E_TOKENIZER', `tokenizer.json could not be loaded (${reason}); check that it is a Hugging Face fast-tokenizer file`, { cause });
  }
  return wrapTokenizer(inner, tokenizerConfig);
}

function wrapTokenizer(inner: Tokenizer, tokenizerConfig: JsonObject): TextTokenizer {
  const vocab = inner.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  const specialIds = new Set<number>();
  for (const [id, token] of inner.get_added_tokens_decoder()) if (token.special) specialIds.add(id);

  const idOf = (field: string): number | null => {
    const content = specialTokenContent(tokenizerConfig[field]);
    if (content === null) return null;
    const id = inner.token_to_id(content);
    if (id === undefined) {
      throw new LoraTleError('E_TOKENIZER', `tokenizer_config.json ${field} "${content}" is not in the vocabulary of tokenizer.json; the two files do not belong together`);
    }
    specialIds.add(id);
    return id;
  };
  const bosId = idOf('bos_token');
  const eosId = idOf('eos_token');
  const padId = idOf('pad_token');
  // transformers 5 defaults to false (cleanup corrupts BPE round trips); @huggingface/tokenizers to true.
  const cleanUpSpaces = tokenizerConfig['clean_up_tokenization_spaces'] === true;

  const checkIds = (ids: readonly number[]): void => {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new LoraTleError('E_INVALID_ARGUMENT', `token id ${id} is outside the tokenizer vocabulary [0, ${vocabSize}); mask logits beyond the tokenizer's vocab before sampling`);
      }
    }
  };

  const tokenizer: TextTokenizer = {
    vocabSize,
    bosId,
    eosId,
    padId,
    encode(text, options = {}) {
      return inner.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
    },
    decode(ids, options = {}) {
      checkIds(ids);
      if (ids.length === 0) return '';
      const skipSpecialTokens = options.skipSpecialTokens ?? false;
      const kept = skipSpecialTokens ? ids.filter((id) => !specialIds.has(id)) : [...ids];
      if (kept.length === 0) return '';
      return inner.decode(kept, { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: cleanUpSpaces });
    },
    tokenToId: (token) => inner.token_to_id(token),
    idToToken: (id) => inner.id_to_token(id),
    isSpecialId: (id) => specialIds.has(id),
    createStreamingDetokenizer(options = {}) {
      return createStreamingDetokenizer((ids) => tokenizer.decode(ids, options));
    },
  };
  return tokenizer;
}
