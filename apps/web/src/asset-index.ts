// The shape of public/tiny-tle/assets.json and samples.json, written by scripts/prepare-assets.ts
// and read by the page and its worker. Types only.

import type { EmbedderRef } from '@lora-tle/spec';

export interface SamplePrompt {
  task: string; // adapter name of the task (math, science, code, reading)
  prompt: string; // the first item of the task's test split in its prompt template
}

export interface AssetFile {
  path: string; // relative to the asset directory, e.g. 'pack/model.onnx'
  bytes: number;
  sha256: string;
}

export interface AssetIndex {
  /** sha256 over every file's path and digest (16 hex): the cache key of the non-pack files. */
  version: string;
  /** 'tiny-tle': the trained fixture; 'synthetic': the random stand-in used until it exists. */
  fixture: 'tiny-tle' | 'synthetic';
  adapters: string[]; // pack order
  embedder: EmbedderRef; // the embedder the store's profiles were made with
  files: AssetFile[];
}
