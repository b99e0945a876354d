// The naive graph of a pack (pack.json `naive`, PackNaiveGraph) as a backend session sees it: the
// manifest a session of it runs with (naiveGraphPack: its model file, one adapter, no hidden or
// appended outputs, its factor inputs), the check of a step's adapterFactors against those inputs,
// and their feeds: the one adapter's PEFT-layout factors laid out as the graph takes them. Not
// the merge that makes the factors (@lora-tle/mixing) nor the loop that calls it (@lora-tle/engine).

import { LoraTleError } from '@lora-tle/spec';
import type { LlamaLinearModule, LoraModuleWeights, PackFactorInput, PackManifest } from '@lora-tle/spec';
import type { FeedArray } from './feed-arrays.js';

/** The adapter name a naive-graph session reports: its one adapter is whatever the caller merged. */
export const NAIVE_ADAPTER_NAME = 'merged';

/**
 * The manifest of a session of `pack`'s naive graph. Throws E_NOT_FOUND when the pack was built
 * without one.
 */
export function naiveGraphPack(pack: PackManifest, packName = 'this pack'): PackManifest {
  const naive = pack.naive;
  if (!naive) {
    throw new LoraTleError('E_NOT_FOUND', `${packName} has no naive graph (pack.json "naive"); rebuild it with \`lora-tle build --naive-graph\``);
  }
  const targetModules = [...new Set(pack.adapters.flatMap((adapter) => adapter.targetModules))] as LlamaLinearModule[];
  return {
    ...pack,
    modelSha256: naive.modelSha256,
    combination: 'cat',
    adapters: [{ name: NAIVE_ADAPTER_NAME, rank: pack.adapters[0]?.rank ?? 0, targetModules, sourceHash: '', baseModelNameOrPath: null }],
    io: { ...pack.io, hidden: null, hiddenPerPosition: false, appended: null },
    files: { ...pack.files, model: naive.model, adapterWeights: null },
    naive: null,
    factorInputs: naive.factorInputs,
  };
}

function bad(message: string): never {
  throw new LoraTleError('E_INVALID_ARGUMENT', message);
}

/**
 * Checks a step's adapterFactors against the session's factor inputs (none: the step must carry
 * none). Every module of the inputs needs its factors, of the rank and shape the graph was built
 * with, and no other module may come.
 */
export function checkAdapterFactors(pack: PackManifest, factors: readonly LoraModuleWeights[] | undefined): void {
  const inputs = pack.factorInputs;
  if (!inputs) {
    if (factors !== undefined) bad("adapterFactors is for a session of a pack's naive graph (load it with graph 'naive'); this session mixes the pack's adapters");
    return;
  }
  if (factors === undefined) bad('a naive-graph session applies one adapter per step: pass its factors as adapterFactors (e.g. the merge of the pack adapters)');
  const given = new Map(factors.map((weights) => [weights.module, weights]));
  const expected = new Set<string>();
  for (const input of inputs) {
    for (const { module, rank, inFeatures, outFeatures } of input.modules) {
      expected.add(module);
      const weights = given.get(module);
      if (!weights) bad(`adapterFactors has no factors for ${module}, which the naive graph adapts; merge every module of the pack's adapters`);
      if (weights.rank !== rank || weights.inFeatures !== inFeatures || weights.outFeatures !== outFeatures) {
        bad(`adapterFactors ${module} is rank ${weights.rank} [${weights.outFeatures}, ${weights.inFeatures}], the naive graph takes rank ${rank} [${outFeatures}, ${inFeatures}]`);
      }
      if (weights.a.length !== rank * inFeatures || weights.b.length !== outFeatures * rank) bad(`adapterFactors ${module}: a/b sizes do not match rank ${rank}`);
    }
  }
  for (const module of given.keys()) if (!expected.has(module)) bad(`adapterFactors has ${module}, which the naive graph does not adapt`);
}

/**
 * Feeds of the factor inputs (checked by checkAdapterFactors): an `a` input is the Aᵀ of its modules
 * side by side, each scaled by its scaling, (in, Σ r_m); a `b` input is its module's Bᵀ (r, out).
 */
export function factorFeedArrays(inputs: readonly PackFactorInput[], factors: readonly LoraModuleWeights[]): Record<string, FeedArray> {
  const byModule = new Map(factors.map((weights) => [weights.module, weights]));
  const feeds: Record<string, FeedArray> = {};
  for (const input of inputs) {
    if (input.side === 'b') {
      const { module, rank: r, outFeatures } = input.modules[0]!;
      const b = byModule.get(module)!.b; // (out, r)
      const data = new Float32Array(r * outFeatures); // (r, out)
      for (let o = 0; o < outFeatures; o++) for (let k = 0; k < r; k++) data[k * outFeatures + o] = b[o * r + k]!;
      feeds[input.name] = { type: 'float32', data, dims: [r, outFeatures] };
      continue;
    }
    const inFeatures = input.modules[0]!.inFeatures;
    const totalRank = input.modules.reduce((sum, module) => sum + module.rank, 0);
    const data = new Float32Array(inFeatures * totalRank); // (in, Σ r)
    let column = 0;
    for (const { module, rank: r } of input.modules) {
      const { a, scaling } = byModule.get(module)!; // a (r, in)
      for (let k = 0; k < r; k++) for (let i = 0; i < inFeatures; i++) data[i * totalRank + column + k] = a[k * inFeatures + i]! * scaling;
      column += r;
    }
    feeds[input.name] = { type: 'float32', data, dims: [inFeatures, totalRank] };
  }
  return feeds;
}
