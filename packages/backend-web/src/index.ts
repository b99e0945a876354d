// @lora-tle/backend-web: run lora-tle model packs in the browser on onnxruntime-web (wasm, webgpu),
// files from URLs cached with the Cache API. Also the backend conformance suite every backend runs.
export { createWebBackend, WEB_CACHE_NAME, type WebBackendOptions, type WebDevice } from './web-backend.js';
export { WEB_BACKEND_ID } from './web-kv-cache.js';
export { deleteOtherCachedVersions, downloadPack, type DownloadedPack, type PackCache, type PackDownloadOptions } from './pack-download.js';
export { describeBackendConformance, type ConformancePacks, type ConformanceSetup, type ConformanceTestApi } from './conformance.js';
