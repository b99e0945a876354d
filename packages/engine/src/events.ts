// The events a generation stream yields, and the request shape. Types only.

import type { AdapterMix } from '@lora-tle/spec';
import type { TruncatePolicy } from './context-policy.js';
import type { RoutingMode } from './routing-mode.js';
import type { SamplingOptions } from './sampling.js';

/**
 * KV cache policy. `reuse` (default): each token's K/V are computed once, with the mixture in force
 * when that token is fed, and kept. `recompute`: every step re-runs the whole sequence under the
 * current mixture with no cache (the paper's loop; O(T²) work).
 */
export type KvPolicy = 'reuse' | 'recompute';

export interface GenerateRequest {
  prompt: string;
  /** 'token' | 'prompt' | 'every:k' | 'base' | 'uniform' | 'adapter:<name>'; default 'token' with a router, else 'base'. */
  mode?: RoutingMode | string;
  maxNewTokens?: number; // default 64
  sampling?: SamplingOptions;
  /** Generation stops before the first occurrence of any of these; the stop string is not emitted. */
  stop?: readonly string[];
  kv?: KvPolicy;
  /**
   * The paper's loop, for speed comparison: per token merge the adapter weights (PEFT 0.4.0
   * linear, over every module), recompute the whole sequence without cache, re-embed the whole text.
   */
  naive?: boolean;
  /** Prompt longer than the context: 'none' (default) refuses with E_CONTEXT_OVERFLOW. */
  truncate?: TruncatePolicy;
  /** The router sees only the last W tokens of the context; default: all of it. */
  routingWindow?: number;
}

export interface TokenTiming {
  routingMs: number;
  modelMs: number; // the backend step that produced this token's logits (shared by a batch)
  samplingMs: number;
}

export interface TokenEvent {
  type: 'token';
  tokenId: number;
  /** Text this token adds (may be '' while a possible stop string or partial character is held back). */
  text: string;
  /** The mixture used to compute the logits this token was sampled from. */
  mix: AdapterMix;
  step: number; // 0 for the first generated token
  timing: TokenTiming;
}

export type FinishReason = 'eos' | 'length' | 'stop' | 'aborted';

export interface DoneTiming {
  ttftMs: number; // request start → first token sampled
  totalMs: number;
  tokensPerSecond: number; // generated tokens / total time
  routingMs: number; // sums over all steps
  modelMs: number;
  samplingMs: number;
}

export interface DoneEvent {
  type: 'done';
  /** The generated text (stop string and everything after it removed). */
  text: string;
  /** Every sampled token except EOS (a stop string's tokens included). */
  tokenIds: number[];
  finishReason: FinishReason;
  /** Text released only at the end (held back as a possible stop-string start); deltas + tail = text. */
  tail: string;
  promptTokens: number; // after truncation, BOS included
  timing: DoneTiming;
}

export type GenerationEvent = TokenEvent | DoneEvent;
export type BatchEvent = (TokenEvent | DoneEvent) & { row: number };

export interface GenerateCallOptions {
  signal?: AbortSignal;
}
