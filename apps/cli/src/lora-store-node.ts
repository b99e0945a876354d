// The Node half of @lora-tle/lora-store (file-system loaders and atomic writers), re-exported in one
// place for the CLI. TEMPORARY: lora-store's package.json does not export "./node" yet, so this
// imports its source file directly (works under tsx, vitest and tsup, which bundles it). When
// the "./node" export exists, replace the path with '@lora-tle/lora-store/node' — nothing else changes.

export { loadCheckpoint, loadPeftAdapter, openSafetensorsFile, writePeftAdapter } from '../../../packages/lora-store/src/node.js';
