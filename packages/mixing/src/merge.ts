// Offline merges: N LoRA adapters + weights → one new LoRA adapter, as PEFT add_weighted_adapter
// builds it (peft 0.21 tuners/lora/model.py; PEFT 0.4.0 for the *-peft0.4 variants, which the
// original LoRA-TLE loop ran). With k_i = w_i · s_i, per module:
//   cat:            A_new = vstack(k_i A_i), B_new = hstack(B_i), r_new = Σ r_i         ΔW exact
//   linear:         A_new = Σ sign(k_i)√|k_i| A_i, B_new = Σ √|k_i| B_i  (equal ranks)  cross terms
//   linear-peft0.4: A_new = Σ k_i A_i, B_new = Σ B_i                    (equal ranks)  cross terms
//   svd:            D = Σ k_i B_i A_i, B_new = U·S, A_new = Vh truncated to r_new (svd_rank or max r_i),
//                   optional quantile clamp (svd_clamp)
//   svd-peft0.4:    the same, always clamped at the 0.99 quantile
// The new adapter has lora_alpha = r_new (scaling 1), and PEFT copies use_rslora from the first
// adapter's config (scaling r_new/√r_new then — a PEFT quirk we reproduce). One adapter always
// merges as linear, as in PEFT. Not here: reading/writing adapter files (lora-store).

import { LoraTleError, type LoraAdapterConfig, type LoraModuleWeights, type OfflineCombination } from '@lora-tle/spec';
import { assertOfflineCombination, sharesRankSpace, signedSqrt } from './combination.js';
import { checkModuleShapes, checkWeights, requireEqualRanks } from './delta.js';
import { truncatedSvdOfSum } from './merge-svd.js';
import { loraScaling } from './scaling.js';

/** The quantile PEFT 0.4.0 always clamped SVD factors at (CLAMP_QUANTILE). */
export const PEFT04_SVD_CLAMP_QUANTILE = 0.99;

/** PEFT merges a single adapter linearly whatever combination was asked for. */
export function effectiveCombination(adapterCount: number, combination: OfflineCombination): OfflineCombination {
  assertOfflineCombination(combination);
  if (adapterCount !== 1) return combination;
  return combination.endsWith('peft0.4') ? 'linear-peft0.4' : 'linear';
}

/** An adapter's largest rank over all modules: max(r, rank_pattern values) — what PEFT allocates. */
export function configMaxRank(config: Pick<LoraAdapterConfig, 'r' | 'rankPattern'>): number {
  return Math.max(config.r, ...Object.values(config.rankPattern));
}

/**
 * r_new of the merged adapter from the adapters' configs (PEFT _check_add_weighted_adapter):
 * cat → Σ max ranks; linear → the shared rank (E_RANK_MISMATCH otherwise); svd → svdRank or max.
 */
export function mergedRank(
  configs: readonly Pick<LoraAdapterConfig, 'r' | 'rankPattern'>[],
  combination: OfflineCombination,
  svdRank?: number,
): number {
  if (configs.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', 'merge: no adapters given; pass at least one');
  const effective = effectiveCombination(configs.length, combination);
  const ranks = configs.map(configMaxRank);
  if (sharesRankSpace(effective)) {
    if (ranks.some((rank) => rank !== ranks[0])) {
      throw new LoraTleError('E_RANK_MISMATCH', `combination "${effective}" needs all adapters to have one rank, got ${ranks.join(', ')}; use "cat" or "svd" instead`);
    }
    return ranks[0]!;
  }
  if (effective === 'cat') return ranks.reduce((sum, rank) => sum + rank, 0);
  if (svdRank !== undefined && svdRank !== 0) {
    if (!Number.isInteger(svdRank) || svdRank < 0) throw new LoraTleError('E_INVALID_ARGUMENT', `svd rank must be a positive integer, got ${svdRank}`);
    return svdRank;
  }
  return Math.max(...ranks);
}

/** adapter_config of the merged adapter: the first adapter's config with r = lora_alpha = r_new. */
export function mergedAdapterConfig(configs: readonly LoraAdapterConfig[], combination: OfflineCombination, svdRank?: number): LoraAdapterConfig {
  const rank = mergedRank(configs, combination, svdRank);
  const first = configs[0]!;
  const targetKinds = new Set(configs.map((config) => typeof config.targetModules));
  if (targetKinds.size > 1) {
    throw new LoraTleError('E_ADAPTER_CONFIG', 'merge: some adapters list target_modules and others give a regex string; PEFT cannot merge that mix either — make them the same kind');
  }
  const targetModules =
    typeof first.targetModules === 'string'
      ? configs.map((config) => `(${config.targetModules as string})`).join('|')
      : [...new Set(configs.flatMap((config) => config.targetModules as string[]))];
  return { ...first, r: rank, loraAlpha: rank, rankPattern: {}, alphaPattern: {}, targetModules };
}

export interface MergeModuleOptions {
  /**
   * r_new from mergedRank (config level). Default from this module: cat Σ r_i, linear r, svd max r_i.
   * cat pads A/B with zero rows/columns up to it (PEFT does, when rank_pattern lowers a module).
   */
  rank?: number;
  /** svd only: clamp U·S and Vh at this quantile (PEFT svd_clamp). svd-peft0.4 always uses 0.99. */
  svdClamp?: number;
  /** The merged adapter's use_rslora (PEFT copies the first adapter's); scaling = r_new / √r_new. */
  useRslora?: boolean;
}

/**
 * Merge one module of N adapters (those that have it, with their weights) into the new adapter's
 * module. Output: A (r', in), B (out, r'), alpha = r_new, scaling of the merged adapter.
 */
export function mergeModule(
  modules: readonly LoraModuleWeights[],
  weights: ArrayLike<number>,
  combination: OfflineCombination,
  options: MergeModuleOptions = {},
): LoraModuleWeights {
  return prepareModuleMerge(modules, combination, options)(weights);
}

/**
 * mergeModule for one set of modules merged again and again under changing weights (the paper's
 * per-token loop): the factors (shapes, ranks, finite values) and the options are checked once
 * here; each call checks only its weights. The modules must not change in between.
 */
export function prepareModuleMerge(
  modules: readonly LoraModuleWeights[],
  combination: OfflineCombination,
  options: MergeModuleOptions = {},
): (weights: ArrayLike<number>) => LoraModuleWeights {
  const { inFeatures, outFeatures } = checkModuleShapes(modules, 'merge');
  const effective = effectiveCombination(modules.length, combination);
  const newRank = options.rank ?? defaultRank(modules, effective);
  if (!Number.isInteger(newRank) || newRank <= 0) throw new LoraTleError('E_INVALID_ARGUMENT', `merged rank must be a positive integer, got ${newRank}`);
  if (effective === 'cat') {
    const totalRank = modules.reduce((sum, module) => sum + module.rank, 0);
    if (newRank < totalRank) {
      throw new LoraTleError('E_INVALID_ARGUMENT', `cat merge of ${modules[0]!.module} needs rank ≥ Σ r_i = ${totalRank}, got ${newRank}`);
    }
  }
  if (effective === 'linear' || effective === 'linear-peft0.4') requireEqualRanks(modules, effective);
  const clamp = effective === 'svd-peft0.4' ? PEFT04_SVD_CLAMP_QUANTILE : (options.svdClamp ?? null);
  if ((effective === 'svd' || effective === 'svd-peft0.4') && clamp !== null && !(clamp >= 0 && clamp <= 1)) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `svd clamp is a quantile in [0, 1], got ${clamp}`);
  }
  const mergedScaling = loraScaling({ alpha: newRank, rank: newRank, useRslora: options.useRslora ?? false });
  const result = (rank: number, a: Float32Array, b: Float32Array): LoraModuleWeights => ({
    module: modules[0]!.module,
    rank,
    alpha: newRank,
    scaling: mergedScaling,
    a,
    b,
    inFeatures,
    outFeatures,
  });

  // the merge itself, every call: k_i = w_i s_i
  return (weights) => {
    checkWeights(weights, modules.length, 'merge');
    const coefficients = modules.map((module, i) => weights[i]! * module.scaling);
    if (effective === 'cat') {
      const a = new Float32Array(newRank * inFeatures); // (r_new, in), rows past Σ r_i stay 0
      const b = new Float32Array(outFeatures * newRank); // (out, r_new)
      let offset = 0;
      modules.forEach((module, i) => {
        for (let k = 0; k < module.rank * inFeatures; k++) a[offset * inFeatures + k] = module.a[k]! * coefficients[i]!;
        for (let o = 0; o < outFeatures; o++) {
          for (let k = 0; k < module.rank; k++) b[o * newRank + offset + k] = module.b[o * module.rank + k]!;
        }
        offset += module.rank;
      });
      return result(newRank, a, b);
    }

    if (effective === 'linear' || effective === 'linear-peft0.4') {
      const r = modules[0]!.rank; // equal ranks, checked
      const a = new Float64Array(r * inFeatures); // (r, in)
      const b = new Float64Array(outFeatures * r); // (out, r)
      for (let i = 0; i < modules.length; i++) {
        const k = coefficients[i]!;
        addScaled(a, modules[i]!.a, effective === 'linear' ? signedSqrt(k) : k);
        addScaled(b, modules[i]!.b, effective === 'linear' ? Math.sqrt(Math.abs(k)) : 1);
      }
      return result(r, new Float32Array(a), new Float32Array(b));
    }

    const terms = modules.map((module, i) => ({ a: module.a, b: module.b, rank: module.rank, coefficient: coefficients[i]! }));
    const { a, b } = truncatedSvdOfSum(terms, inFeatures, outFeatures, newRank, clamp);
    return result(newRank, a, b);
  };
}

/** target += scale · source, element-wise (one small monomorphic loop: the per-token merge's hot path). */
function addScaled(target: Float64Array, source: Float32Array, scale: number): void {
  for (let j = 0; j < target.length; j++) target[j]! += scale * source[j]!;
}

function defaultRank(modules: readonly LoraModuleWeights[], combination: OfflineCombination): number {
  const ranks = modules.map((module) => module.rank);
  if (combination === 'cat') return ranks.reduce((sum, rank) => sum + rank, 0);
  if (sharesRankSpace(combination)) return requireEqualRanks(modules, combination);
  return Math.max(...ranks);
}
