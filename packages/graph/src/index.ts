// @lora-tle/graph: builds the ONNX model pack (decoder graph with run-time adapter mixing) from a
// Llama checkpoint and PEFT adapters.
export { writeModelPack, PACK_FILES, type WritePackOptions } from './pack-writer.js';
export type { AdapterSource, LlamaWeightSource } from './llama-source.js';
export { modulePath, moduleShape } from './llama-source.js';
export { GRAPH_IO } from './graph-io.js';
export { OPSET, IR_VERSION } from './decoder-graph.js';
export { createRandomAdapter, createRandomLlama, TINY_ARCHITECTURE, type RandomAdapterSpec, type RandomLlama } from './random-llama.js';
export { buildModelPack, type BuildPackOptions } from './build-pack.js';
export { graphCodeFingerprint } from './code-fingerprint.js';
