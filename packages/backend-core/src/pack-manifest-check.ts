// pack.json validation shared by every backend: the parsed JSON must be a pack manifest of the
// format version this code reads, with the fields a session needs. Throws E_PACK_INVALID or
// E_PACK_VERSION naming the pack. Not reading files or URLs, nor checking the weight files
// (each backend does that with its own I/O: backend-node pack-manifest.ts, backend-web pack-download.ts).

import { LoraTleError, PACK_FORMAT_VERSION } from '@lora-tle/spec';
import type { Combination, PackManifest } from '@lora-tle/spec';

export const REBUILD_PACK = 'rebuild the pack with `lora-tle build`';

const COMBINATIONS: readonly Combination[] = ['cat', 'linear', 'linear-peft0.4'];
const ARCHITECTURE_NUMBERS = ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim'] as const;

/**
 * Asserts that `value` (parsed pack.json) is a PackManifest this code can run.
 * `packName` names the pack in messages, e.g. `model pack /packs/tiny` or `model pack at https://…/`;
 * `details` is attached to E_PACK_INVALID errors.
 */
export function checkPackManifest(value: unknown, packName: string, details?: Record<string, unknown>): asserts value is PackManifest {
  function invalid(what: string): never {
    throw new LoraTleError('E_PACK_INVALID', `${packName}: ${what}; ${REBUILD_PACK}`, details ? { details } : undefined);
  }
  const manifest = value as Partial<PackManifest> | null;
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) invalid('pack.json is not a JSON object');
  if (typeof manifest.formatVersion !== 'number') invalid('pack.json has no formatVersion');
  if (manifest.formatVersion !== PACK_FORMAT_VERSION) {
    throw new LoraTleError('E_PACK_VERSION', `${packName} has format version ${manifest.formatVersion}, this backend reads version ${PACK_FORMAT_VERSION}; ${REBUILD_PACK} or update lora-tle`);
  }
  const architecture = manifest.architecture;
  if (!architecture || ARCHITECTURE_NUMBERS.some((field) => !Number.isInteger(architecture[field]) || architecture[field] <= 0)) {
    invalid(`pack.json architecture must have positive integer ${ARCHITECTURE_NUMBERS.join(', ')}`);
  }
  if (!COMBINATIONS.includes(manifest.combination as Combination)) invalid(`unknown combination "${manifest.combination}"`);
  if (!Array.isArray(manifest.adapters) || manifest.adapters.some((adapter) => typeof adapter?.name !== 'string')) invalid('pack.json adapters must be a list of { name, … }');
  const ranks = (value: unknown): boolean => value === undefined || (typeof value === 'object' && value !== null && Object.values(value).every((rank) => Number.isInteger(rank) && (rank as number) > 0));
  if (manifest.adapters.some((adapter) => !ranks(adapter.moduleRanks))) invalid('pack.json adapters[].moduleRanks must map module paths to positive integer ranks');
  if (typeof manifest.io !== 'object' || manifest.io === null || typeof manifest.io.logits !== 'string') invalid('pack.json io is missing');
  if (typeof manifest.files?.model !== 'string' || typeof manifest.files.baseWeights !== 'string') invalid('pack.json files.model / files.baseWeights missing');
  const naive = manifest.naive;
  if (naive !== undefined && naive !== null) {
    const positive = (value: unknown) => Number.isInteger(value) && (value as number) > 0;
    const wellFormed =
      typeof naive === 'object' &&
      typeof naive.model === 'string' &&
      typeof naive.modelSha256 === 'string' &&
      Array.isArray(naive.factorInputs) &&
      naive.factorInputs.every(
        (input) =>
          typeof input?.name === 'string' &&
          (input.side === 'a' || (input.side === 'b' && input.modules?.length === 1)) &&
          Array.isArray(input.modules) &&
          input.modules.length > 0 &&
          input.modules.every((module) => typeof module?.module === 'string' && positive(module.rank) && positive(module.inFeatures) && positive(module.outFeatures)),
      );
    if (!wellFormed) invalid('pack.json naive must be { model, modelSha256, factorInputs: [{ name, side: "a" | "b", modules: [{ module, rank, inFeatures, outFeatures }] }] }');
  }
}
