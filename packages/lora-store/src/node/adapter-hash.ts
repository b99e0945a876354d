// Node only: the content hash of a PEFT adapter directory: sha256 over the bytes of
// adapter_config.json followed by adapter_model.safetensors, streamed (adapters can be large).

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { LoraTleError } from '@lora-tle/spec';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../peft-adapter.js';

export async function hashAdapterFiles(adapterDir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE]) {
    const path = join(adapterDir, name);
    try {
      for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
      throw new LoraTleError(missing ? 'E_STORE_FILES_MISSING' : 'E_IO', `cannot read ${path}: ${(cause as Error).message}`, { cause, details: { path } });
    }
  }
  return hash.digest('hex');
}
