// @lora-tle/backend-core/node: the half of a backend that reads a pack directory from disk with
// node:fs (pack.json, the files it names, model.onnx's external-data ranges). Kept apart from the
// main entry so a browser backend imports no node: module. (listExternalData, pure, is in both.)
export { readPack, type LoadedPack } from './read-pack.js';
export { listExternalData, type ExternalDataReference } from './external-data-index.js';
