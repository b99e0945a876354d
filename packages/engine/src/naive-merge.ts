// The per-token weight merge of the paper's loop: every token, for every module of every adapter,
// PEFT 0.4.0 `add_weighted_adapter(..., 'linear')` (A_new = Σ w_i s_i A_i, B_new = Σ B_i) through
// @lora-tle/mixing's offline merge. With a session of the pack's naive graph the engine feeds the
// merged factors to it (the paper's forward: one adapter of the adapters' rank). Without one, the
// merge is paid and dropped and the forward runs the pack's run-time mixture instead: the same
// function as the merge on a `linear-peft0.4` pack (A-side w_i s_i, B-side 1), that pack's
// mixture on a `cat` or `linear` one. Not a merge implementation: mixing owns that.

import type { AdapterMix, LoraModuleWeights, ModulePath } from '@lora-tle/spec';
import { LoraTleError } from '@lora-tle/spec';
import { prepareModuleMerge } from '@lora-tle/mixing';

type AdapterWeights = readonly (readonly LoraModuleWeights[])[];

export interface NaiveMerger {
  /** Merges every module under the mixture's weights: the one adapter, every module any adapter has. */
  merge(mix: AdapterMix): LoraModuleWeights[];
}

interface ModuleGroup {
  adapterIndices: number[]; // which adapters have this module
  modules: LoraModuleWeights[];
}

interface PreparedGroup {
  adapterIndices: number[];
  merge: (weights: ArrayLike<number>) => LoraModuleWeights;
}

export async function createNaiveMerger(
  source: AdapterWeights | (() => Promise<AdapterWeights>) | undefined,
  packAdapters: readonly string[],
): Promise<NaiveMerger> {
  if (!source) {
    throw new LoraTleError(
      'E_INVALID_ARGUMENT',
      'naive mode merges the adapter weights every token and needs them: pass adapterWeights (one LoraModuleWeights list per adapter, pack order) to createEngine',
    );
  }
  const adapters = typeof source === 'function' ? await source() : source;
  if (adapters.length !== packAdapters.length) {
    throw new LoraTleError(
      'E_INVALID_ARGUMENT',
      `naive mode got weights for ${adapters.length} adapters but the pack has ${packAdapters.length} (${packAdapters.join(', ')}); pass them in pack order`,
    );
  }
  const groups = new Map<ModulePath, ModuleGroup>();
  adapters.forEach((modules, adapterIndex) => {
    for (const module of modules) {
      let group = groups.get(module.module);
      if (!group) groups.set(module.module, (group = { adapterIndices: [], modules: [] }));
      group.adapterIndices.push(adapterIndex);
      group.modules.push(module);
    }
  });
  // The factors are checked once here, as PEFT loads them once; every token then pays the merge
  // arithmetic and allocation only (PEFT's add_weighted_adapter does not re-validate either).
  const prepared: PreparedGroup[] = [...groups.values()].map((group) => ({
    adapterIndices: group.adapterIndices,
    merge: prepareModuleMerge(group.modules, 'linear-peft0.4'),
  }));
  return {
    merge(mix) {
      return prepared.map((group) => group.merge(group.adapterIndices.map((index) => mix.weights[index]!)));
    },
  };
}
