// @lora-tle/backend-simd: run lora-tle model packs on hand-written WebAssembly SIMD kernels (CPU),
// without onnxruntime — for small models, whose decode step a runtime's per-operator overhead
// dominates. createSimdBackend reads a pack directory (Node); openSimdSession (also in ./web) opens
// a session on a pack's bytes.
export { createSimdBackend } from './simd-backend.js';
export { openSimdSession, type OpenSimdOptions, type PackFiles } from './open-session.js';
export { SIMD_BACKEND_ID } from './simd-kv-cache.js';
