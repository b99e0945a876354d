// @lora-tle/lora-store: safetensors read/write with validation, Hugging Face checkpoints, PEFT
// adapters and the adapter store. This entry is platform-neutral (browser-safe); file-system
// helpers are exported from `@lora-tle/lora-store/node` (src/node.ts).

export * from './byte-source.js';
export * from './fetch-byte-source.js';
export * from './dtypes.js';
export * from './safetensors-header.js';
export * from './safetensors-reader.js';
export * from './safetensors-encode.js';
export * from './tensor-decode.js';
export * from './file-set.js';
export * from './llama-config.js';
export * from './llama-weights.js';
export * from './checkpoint.js';
export * from './peft-config.js';
export * from './peft-keys.js';
export * from './peft-adapter.js';
export * from './peft-encode.js';
export * from './store-manifest.js';
export * from './profile-encode.js';
