// @lora-tle/backend-core: the runtime-agnostic half of a lora-tle backend — pack.json validation,
// step-input validation and the doStep skeleton, feed arrays, logits slicing, chunk planning,
// KV-cache bookkeeping and the session-kept KV arrays. No runtime imports: it returns plain typed
// arrays and shapes; each backend makes its own tensors.
export { checkPackManifest, REBUILD_PACK } from './pack-manifest-check.js';
export { appendedOutputName, graphOutputNames, layerName, pastInputNames, presentOutputNames, stepOutputNames, type LayerNames, type StepKvOutputs } from './pack-io-names.js';
export { validateStep } from './step-validation.js';
export { mergeBackendOptions, runStep } from './run-step.js';
export { emptyPastShape, stepFeedArrays, type FeedArray } from './feed-arrays.js';
export { selectLogits, stepHidden } from './step-outputs.js';
export { columns, planChunks, stepInChunks, WEBGPU_MAX_TOKENS_PER_RUN, type ChunkedStepShape } from './chunked-step.js';
export { BackendKvCache, presentTensors, type DisposableTensor } from './kv-cache-base.js';
export { KvBuffers, kvBufferFeeds, kvCapacityFor, MIN_KV_CAPACITY, writeAppended } from './kv-buffers.js';
export { finishKvStep, startKvStep, type KvStep, type KvStepResult } from './kv-step.js';
export { checkAdapterFactors, factorFeedArrays, NAIVE_ADAPTER_NAME, naiveGraphPack } from './naive-graph.js';
export { listExternalData, type ExternalDataReference } from './external-data-index.js';
