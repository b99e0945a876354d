// @lora-tle/lora-store/node: the Node-only half (node:fs). Browser bundles import the package
// root instead, which never touches node:fs.

export * from './node/file-byte-source.js';
export * from './node/atomic-write.js';
export * from './node/safetensors-file.js';
export * from './node/directory-file-set.js';
export * from './node/checkpoint-dir.js';
export * from './node/peft-dir.js';
export * from './node/adapter-hash.js';
export * from './node/adapter-store.js';
export * from './node/store-profiles.js';
