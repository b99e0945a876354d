// @lora-tle/router: embedders (hashing, transformers, hidden), task profiles, routing strategies
// and their registry, routing schedules, and the Router that ties them together.

export { createHashingEmbedder, DEFAULT_HASHING_SETTINGS, fitHashingEmbedder, HASHING_EMBEDDER_VERSION, type FitHashingOptions, type HashingEmbedder, type HashingEmbedderOptions, type HashingEmbedderSettings } from './hashing-embedder.js';
export { DEFAULT_MIN_FRACTION, hashingFitHash, type HashingFit } from './hashing-fit.js';
export { createTransformersEmbedder, type TransformersEmbedder, type TransformersEmbedderOptions, type TransformersLibrary } from './transformers-embedder.js';
export { createHiddenEmbedder, type HiddenEmbedderOptions, type IncrementalHiddenState } from './hidden-embedder.js';
export type { IncrementalEmbedder, IncrementalEmbedding, IncrementalUpdate } from './incremental-embedding.js';
export { assertProfileEmbedder, describeEmbedderRef, embedderRefOf, sameEmbedderRef } from './embedder-ref.js';
export { windowContext, type ContextWindow } from './context-window.js';
export { buildProfile, selectProfiles, type BuildProfileOptions } from './task-profile.js';
export { buildFittedProfiles, type BuildFittedProfilesOptions, type FittedProfiles } from './fitted-profiles.js';
export { parseJsonlTexts, readJsonlTexts, type JsonlTextOptions } from './jsonl-texts.js';
export { createPaperStrategy, createSoftmaxStrategy, createTopKStrategy, profileSimilarities, type SimilarityStrategy } from './similarity-strategies.js';
export { createKnnStrategy, DEFAULT_KNN_K } from './knn-strategy.js';
export { createBaseStrategy, createFixedStrategy, createUniformStrategy, type ContextFreeStrategy } from './fixed-strategies.js';
export { createStrategy, createStrategyRegistry, numberArg, type StrategyFactory, type StrategyRegistration, type StrategyRegistry } from './strategy-registry.js';
export { formatSchedule, parseSchedule, shouldRoute } from './routing-schedule.js';
export { createRouter, type Router, type RouterContext, type RouterOptions } from './router.js';
export { decodeHashingFit, encodeHashingFit, hashingFitFile, openStoreHashingEmbedder, restoreHashingEmbedder, saveHashingFit } from './hashing-fit-store.js';
