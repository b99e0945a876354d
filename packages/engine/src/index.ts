// @lora-tle/engine: the generation loop — tokenize → route → step → sample → detokenize — as an
// async iterator of events, for one prompt or a batch, with KV reuse/recompute and the naive
// paper loop. Backends, routers and tokenizers come in through small seams.

export { createEngine, generateText, DEFAULT_MAX_NEW_TOKENS, type Engine, type EngineOptions, type AdapterWeightsSource } from './engine.js';
export type { EngineTokenizer } from './decode-loop.js';
export type {
  BatchEvent,
  DoneEvent,
  DoneTiming,
  FinishReason,
  GenerateCallOptions,
  GenerateRequest,
  GenerationEvent,
  KvPolicy,
  TokenEvent,
  TokenTiming,
} from './events.js';
export {
  alignMix,
  fixedMix,
  formatRoutingMode,
  needsRouter,
  parseRoutingMode,
  type ContextRouter,
  type RoutingMode,
  type RoutingRequest,
} from './routing-mode.js';
export { createStrategyRouter, type StrategyRouterParts } from './strategy-router.js';
export { argmax, createSampler, mulberry32, resolveSampling, type Sampler, type SamplingOptions } from './sampling.js';
export { fitPromptToContext, type TruncatePolicy } from './context-policy.js';
export { StopStringStream } from './text-stream.js';
export { contextRouterFrom, engineTokenizerFrom } from './seams.js';
export { createSessionHiddenEmbedder } from './session-hidden-embedder.js';
