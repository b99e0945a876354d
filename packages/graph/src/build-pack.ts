// buildModelPack: a Hugging Face Llama checkpoint directory plus PEFT adapter directories (in
// mixing order) → a model pack directory. Loads through @lora-tle/lora-store (which validates
// config.json, safetensors and adapter configs), hashes the source files, copies the tokenizer,
// and hands the rest to writeModelPack. Node only (reads the file system).

import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, loadPeftAdapter } from '@lora-tle/lora-store/node';
import type { Combination, LoraModuleWeights, ModulePath, PackManifest, ProgressListener } from '@lora-tle/spec';
import type { AdapterSource } from './llama-source.js';
import { writeModelPack } from './pack-writer.js';

export interface BuildPackOptions {
  checkpointDir: string;
  /** Adapters in mixing order; `name` is what routing and the CLI call it. */
  adapters: readonly { name: string; dir: string }[];
  destination: string;
  combination?: Combination; // default 'cat'
  overwrite?: boolean;
  withHidden?: boolean; // default true
  withAppended?: boolean; // default true
  withNaive?: boolean; // default false: the naive graph (naive.onnx)
  onProgress?: ProgressListener;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function buildModelPack(options: BuildPackOptions): Promise<PackManifest> {
  const checkpoint = await loadCheckpoint(options.checkpointDir);
  const opened: { close(): Promise<void> }[] = [checkpoint];
  try {
    const sourceHashes: Record<string, string> = {};
    const hashFile = async (label: string, path: string): Promise<string> => {
      const digest = await sha256(path);
      sourceHashes[label] = digest;
      return digest;
    };
    await hashFile('checkpoint/config.json', join(options.checkpointDir, 'config.json'));
    for (const file of checkpoint.files) await hashFile(`checkpoint/${file}`, join(options.checkpointDir, file));

    const adapters: AdapterSource[] = [];
    for (const { name, dir } of options.adapters) {
      const adapter = await loadPeftAdapter(dir, { base: checkpoint.architecture });
      opened.push(adapter);
      const modules = new Map<ModulePath, LoraModuleWeights>();
      for (const weights of await adapter.readModules()) modules.set(weights.module, weights);
      await hashFile(`adapters/${name}/adapter_config.json`, join(dir, 'adapter_config.json'));
      const sourceHash = await hashFile(`adapters/${name}/adapter_model.safetensors`, join(dir, 'adapter_model.safetensors'));
      adapters.push({ name, modules, sourceHash, baseModelNameOrPath: adapter.config.baseModelNameOrPath });
    }

    const inCheckpoint = (file: string): string | null => (existsSync(join(options.checkpointDir, file)) ? join(options.checkpointDir, file) : null);
    return await writeModelPack({
      source: { architecture: checkpoint.architecture, tensor: (name) => checkpoint.readTensor(name) },
      adapters,
      destination: options.destination,
      combination: options.combination ?? 'cat',
      overwrite: options.overwrite ?? false,
      withHidden: options.withHidden ?? true,
      withAppended: options.withAppended ?? true,
      withNaive: options.withNaive ?? false,
      tokenizerFiles: { tokenizer: inCheckpoint('tokenizer.json'), tokenizerConfig: inCheckpoint('tokenizer_config.json') },
      sourceHashes,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } finally {
    await Promise.all(opened.map((handle) => handle.close()));
  }
}
