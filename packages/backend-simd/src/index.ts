// @lora-tle/backend-simd: run lora-tle model packs on hand-written WebAssembly SIMD kernels (CPU),
// without onnxruntime — for small models, whose decode step a runtime's per-operator overhead
// dominates.
export { createSimdBackend } from './simd-backend.js';
export { SIMD_BACKEND_ID } from './simd-kv-cache.js';
