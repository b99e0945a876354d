// Merging opened PEFT adapters into one adapter, module by module, with @lora-tle/mixing's offline
// merges (PEFT add_weighted_adapter semantics). Checks first that the adapters share a base model.
// Not here: reading and writing directories (commands/merge.ts), the merge math (mixing).

import { LoraTleError, type LoraAdapterConfig, type LoraModuleWeights, type ModulePath, type OfflineCombination } from '@lora-tle/spec';
import { mergedAdapterConfig, mergeModule, resolveModuleRankAlpha } from '@lora-tle/mixing';
import type { PeftAdapter } from '@lora-tle/lora-store';

export interface MergeRequest {
  adapters: readonly PeftAdapter[];
  weights: readonly number[];
  combination: OfflineCombination;
  svdRank?: number;
  svdClamp?: number;
  /** Called after each merged module with (done, total). */
  onModule?: (done: number, total: number) => void;
}

export interface MergedAdapter {
  config: LoraAdapterConfig;
  modules: LoraModuleWeights[];
}

/**
 * Throws E_ADAPTER_BASE_MISMATCH unless all adapters name the same base model (when they name one)
 * and every module they share has the same (out, in) shape.
 */
export function checkSharedBase(adapters: readonly PeftAdapter[]): void {
  const named = adapters.filter((adapter) => adapter.config.baseModelNameOrPath !== null);
  const first = named[0];
  for (const adapter of named) {
    if (first !== undefined && adapter.config.baseModelNameOrPath !== first.config.baseModelNameOrPath) {
      throw new LoraTleError(
        'E_ADAPTER_BASE_MISMATCH',
        `${adapter.label} was trained on "${adapter.config.baseModelNameOrPath}" but ${first.label} on "${first.config.baseModelNameOrPath}"; merge only adapters of one base model`,
        { details: { adapters: adapters.map((each) => ({ path: each.label, base: each.config.baseModelNameOrPath })) } },
      );
    }
  }
  const shapes = new Map<ModulePath, { label: string; inFeatures: number; outFeatures: number }>();
  for (const adapter of adapters) {
    for (const info of adapter.modules) {
      const seen = shapes.get(info.module);
      if (seen === undefined) {
        shapes.set(info.module, { label: adapter.label, inFeatures: info.inFeatures, outFeatures: info.outFeatures });
      } else if (seen.inFeatures !== info.inFeatures || seen.outFeatures !== info.outFeatures) {
        throw new LoraTleError(
          'E_ADAPTER_BASE_MISMATCH',
          `${info.module} is (${info.outFeatures}, ${info.inFeatures}) in ${adapter.label} but (${seen.outFeatures}, ${seen.inFeatures}) in ${seen.label}; these adapters belong to different base models`,
        );
      }
    }
  }
}

/** All modules any adapter has, in the order of first appearance (layer, then projection). */
function moduleUnion(adapters: readonly PeftAdapter[]): Array<{ module: ModulePath; inFeatures: number; outFeatures: number }> {
  const union = new Map<ModulePath, { module: ModulePath; inFeatures: number; outFeatures: number }>();
  for (const adapter of adapters) for (const info of adapter.modules) if (!union.has(info.module)) union.set(info.module, info);
  return [...union.values()];
}

export async function mergeAdapters(request: MergeRequest): Promise<MergedAdapter> {
  const { adapters, weights, combination } = request;
  if (adapters.length === 0) throw new LoraTleError('E_USAGE', 'merge needs at least one --adapter');
  if (weights.length !== adapters.length) {
    throw new LoraTleError('E_USAGE', `got ${adapters.length} --adapter and ${weights.length} --weight; give one --weight per --adapter`);
  }
  checkSharedBase(adapters);
  const config = mergedAdapterConfig(
    adapters.map((adapter) => adapter.config),
    combination,
    request.svdRank,
  );
  const modules = moduleUnion(adapters);
  const merged: LoraModuleWeights[] = [];
  for (const [index, { module, inFeatures, outFeatures }] of modules.entries()) {
    // Every adapter contributes to every module, as in PEFT where the combination is chosen by
    // the adapter count; an adapter without this module contributes a zero pair of its rank
    // (ΔW unchanged; for cat its rows sit at its own offset, zero-filled).
    const parts: LoraModuleWeights[] = [];
    for (const adapter of adapters) {
      if (adapter.modules.some((info) => info.module === module)) {
        parts.push(await adapter.readModule(module));
      } else {
        const { rank, alpha, scaling } = resolveModuleRankAlpha(adapter.config, module);
        parts.push({ module, rank, alpha, scaling, inFeatures, outFeatures, a: new Float32Array(rank * inFeatures), b: new Float32Array(outFeatures * rank) });
      }
    }
    const mergeOptions = { rank: config.r, useRslora: config.useRslora, ...(request.svdClamp === undefined ? {} : { svdClamp: request.svdClamp }) };
    merged.push(mergeModule(parts, weights, combination, mergeOptions));
    request.onModule?.(index + 1, modules.length);
  }
  return { config, modules: merged };
}
