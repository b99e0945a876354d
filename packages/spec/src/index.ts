// @lora-tle/spec: the interfaces every lora-tle package speaks, and the error type. Types only,
// plus LoraTleError; no runtime dependencies.

export * from './errors.js';
export * from './model.js';
export * from './mix.js';
export * from './pack.js';
export * from './backend.js';
export * from './routing.js';
export * from './store.js';
