// PEFT state-dict key names ↔ Hugging Face module paths, and the classification of keys that
// belong to features lora-tle refuses. `base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight`
// → module `model.layers.3.self_attn.q_proj`, side A. An adapter-name segment
// (`.lora_A.default.weight`) is accepted.

import type { ModulePath } from '@lora-tle/spec';

export const PEFT_KEY_PREFIX = 'base_model.model.';

export type PeftKey =
  | { kind: 'lora'; module: ModulePath; side: 'A' | 'B'; adapterName: string | null }
  | { kind: 'embedding'; module: ModulePath }
  | { kind: 'dora'; module: ModulePath }
  | { kind: 'lora-bias'; module: ModulePath }
  | { kind: 'other' };

export function parsePeftKey(key: string): PeftKey {
  const path = key.startsWith(PEFT_KEY_PREFIX) ? key.slice(PEFT_KEY_PREFIX.length) : key;
  let match = /^(.+)\.lora_(A|B)(?:\.([^.]+))?\.weight$/.exec(path);
  if (match) return { kind: 'lora', module: match[1] as string, side: match[2] as 'A' | 'B', adapterName: match[3] ?? null };
  if ((match = /^(.+)\.lora_embedding_(?:A|B)(?:\.[^.]+)?$/.exec(path))) return { kind: 'embedding', module: match[1] as string };
  if ((match = /^(.+)\.lora_magnitude_vector(?:\.[^.]+)?(?:\.weight)?$/.exec(path))) return { kind: 'dora', module: match[1] as string };
  if ((match = /^(.+)\.lora_(?:A|B)(?:\.[^.]+)?\.bias$/.exec(path))) return { kind: 'lora-bias', module: match[1] as string };
  return { kind: 'other' };
}

/** The key PEFT saves for one side of a module (no adapter-name segment, as save_pretrained writes). */
export function peftKey(module: ModulePath, side: 'A' | 'B'): string {
  return `${PEFT_KEY_PREFIX}${module}.lora_${side}.weight`;
}
