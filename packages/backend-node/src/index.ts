// @lora-tle/backend-node: run lora-tle model packs on onnxruntime-node (cpu; other execution
// providers through options).
export { createNodeBackend, type NodeBackendOptions } from './node-backend.js';
export { EXECUTION_PROVIDERS, NODE_DEVICES, preflightDevice, type NodeDevice } from './execution-providers.js';
export { NODE_BACKEND_ID } from './node-kv-cache.js';
export { listExternalData, readPack, type ExternalDataReference, type LoadedPack } from '@lora-tle/backend-core/node';
