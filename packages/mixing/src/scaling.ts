// LoRA scaling and per-module rank/alpha resolution, as PEFT computes them (peft 0.21:
// tuners/lora/layer.py `update_layer`, tuners/lora/model.py `_create_and_replace`,
// utils/other.py `get_pattern_key`). The one place these formulas live.
// Not here: which modules an adapter targets (target_modules / layers_to_transform: lora-store).

import { LoraTleError, type LoraAdapterConfig, type ModulePath } from '@lora-tle/spec';

export interface LoraScalingInput {
  alpha: number;
  rank: number; // r
  useRslora: boolean;
}

/** s = α / r, or α / √r with rank-stabilised LoRA (use_rslora). ΔW = s · B · A. */
export function loraScaling({ alpha, rank, useRslora }: LoraScalingInput): number {
  if (!Number.isInteger(rank) || rank <= 0) {
    throw new LoraTleError('E_ADAPTER_CONFIG', `LoRA rank must be a positive integer, got ${rank}; check "r" and "rank_pattern" in adapter_config.json`);
  }
  if (!Number.isFinite(alpha)) {
    throw new LoraTleError('E_ADAPTER_CONFIG', `lora_alpha must be a finite number, got ${alpha}; check "lora_alpha" and "alpha_pattern" in adapter_config.json`);
  }
  return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
}

/**
 * The first pattern key (in insertion order) that matches the module path, or null. Key p matches
 * module m iff the regex `(.*\.)?(p)$` matches the whole of m — so "q_proj" matches
 * "model.layers.0.self_attn.q_proj", and "layers.1.self_attn.q_proj" matches only layer 1's q_proj.
 * Keys are regular expressions, as in PEFT.
 */
export function matchPatternKey(patternKeys: Iterable<string>, modulePath: ModulePath): string | null {
  for (const key of patternKeys) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:.*\\.)?(?:${key})$`);
    } catch (cause) {
      throw new LoraTleError('E_ADAPTER_CONFIG', `rank_pattern/alpha_pattern key ${JSON.stringify(key)} is not a valid regular expression; fix it in adapter_config.json`, { cause });
    }
    if (pattern.test(modulePath)) return key;
  }
  return null;
}

export interface ModuleRankAlpha {
  rank: number; // r for this module
  alpha: number;
  scaling: number; // loraScaling of the two
}

/** Rank, alpha and scaling of one module: rank_pattern / alpha_pattern override r / lora_alpha. */
export function resolveModuleRankAlpha(
  config: Pick<LoraAdapterConfig, 'r' | 'loraAlpha' | 'useRslora' | 'rankPattern' | 'alphaPattern'>,
  modulePath: ModulePath,
): ModuleRankAlpha {
  const rankKey = matchPatternKey(Object.keys(config.rankPattern), modulePath);
  const alphaKey = matchPatternKey(Object.keys(config.alphaPattern), modulePath);
  const rank = rankKey === null ? config.r : config.rankPattern[rankKey]!;
  const alpha = alphaKey === null ? config.loraAlpha : config.alphaPattern[alphaKey]!;
  return { rank, alpha, scaling: loraScaling({ alpha, rank, useRslora: config.useRslora }) };
}
