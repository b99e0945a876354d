// @lora-tle/backend-simd/web: the simd backend without node: imports, for browsers (and workers):
// open a session on a pack's bytes, e.g. as @lora-tle/backend-web's downloadPack returns them.
export { openSimdSession, type OpenSimdOptions, type PackFiles } from './open-session.js';
export { SIMD_BACKEND_ID } from './simd-kv-cache.js';
