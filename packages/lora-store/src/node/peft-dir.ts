// Node only: PEFT adapters on disk — load a directory, write one atomically (files go into a
// hidden sibling directory that is renamed into place only when complete).

import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LoraTleError } from '@lora-tle/spec';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, openPeftAdapter, type OpenPeftAdapterOptions, type PeftAdapter } from '../peft-adapter.js';
import { encodePeftAdapter, type PeftAdapterToWrite } from '../peft-encode.js';
import { encodeSafetensors } from '../safetensors-encode.js';
import { temporarySibling, writeFileAtomic } from './atomic-write.js';
import { directoryFileSet } from './directory-file-set.js';

export function loadPeftAdapter(dir: string, options: OpenPeftAdapterOptions = {}): Promise<PeftAdapter> {
  return openPeftAdapter(directoryFileSet(dir), options);
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes adapter_config.json + adapter_model.safetensors into a new directory `dir`. */
export async function writePeftAdapter(dir: string, adapter: PeftAdapterToWrite & { metadata?: Record<string, string> }): Promise<void> {
  const existsError = () => new LoraTleError('E_OUTPUT_EXISTS', `${dir} already exists; choose a new output directory or remove it first`, { details: { path: dir } });
  if (await pathExists(dir)) throw existsError();
  const { configJson, tensors } = encodePeftAdapter(adapter);
  await mkdir(dirname(dir), { recursive: true });
  const partial = temporarySibling(dir);
  try {
    await mkdir(partial);
    await writeFileAtomic(`${partial}/${ADAPTER_CONFIG_FILE}`, configJson);
    await writeFileAtomic(`${partial}/${ADAPTER_WEIGHTS_FILE}`, encodeSafetensors(tensors, { format: 'pt', ...adapter.metadata }).chunks);
    if (await pathExists(dir)) throw existsError();
    await rename(partial, dir);
  } catch (cause) {
    await rm(partial, { recursive: true, force: true });
    if (cause instanceof LoraTleError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw existsError();
    throw new LoraTleError('E_IO', `cannot write adapter ${dir}: ${(cause as Error).message}`, { cause });
  }
}
