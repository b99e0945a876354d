// The adapter store: a directory with manifest.json naming adapters and their routing profiles.

import type { EmbedderRef } from './routing.js';

export const STORE_FORMAT_VERSION = 1;

export interface StoreProfileEntry {
  embedder: EmbedderRef;
  file: string; // relative to the store root (safetensors)
  count: number;
  hasBank: boolean;
  createdAt: string; // ISO time
}

export interface StoreAdapterEntry {
  name: string;
  path: string; // adapter directory, relative to the store root or absolute
  task: string; // free text: what the adapter is for
  template: string; // prompt template name ('gsm8k' | 'arc' | 'codealpaca' | 'squad') or a literal template
  contentHash: string; // sha256 over adapter_config.json + adapter_model.safetensors
  profiles: StoreProfileEntry[];
}

export interface StoreManifest {
  formatVersion: number;
  adapters: StoreAdapterEntry[];
}
