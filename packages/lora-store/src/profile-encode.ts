// Routing profiles as safetensors: `mean` (dim,) and optionally `bank` (k, dim), with the
// embedder ref, count and adapter in __metadata__. Pure encode/decode; where the file lives is
// the store's business (node/store-profiles.ts).

import { LoraTleError, type EmbedderRef, type TaskProfile } from '@lora-tle/spec';
import type { TensorToWrite } from './safetensors-encode.js';
import type { SafetensorsReader } from './safetensors-reader.js';
import { canonicalEmbedderRef, sameEmbedder } from './store-manifest.js';

export const PROFILE_FORMAT_VERSION = '1';

export function assertValidProfile(profile: TaskProfile): void {
  const dimension = profile.mean.length;
  const problem =
    dimension === 0
      ? 'mean is empty'
      : !profile.mean.every(Number.isFinite)
        ? 'mean has non-finite values'
        : !Number.isSafeInteger(profile.count) || profile.count < 1
          ? `count ${profile.count} is not a positive integer`
          : profile.bank?.some((row) => row.length !== dimension)
            ? `a bank row's length differs from the mean's ${dimension}`
            : null;
  if (problem !== null) throw new LoraTleError('E_INVALID_ARGUMENT', `profile of adapter "${profile.adapter}": ${problem}; rebuild it with \`lora-tle profile\``);
}

export function encodeProfile(profile: TaskProfile): { tensors: TensorToWrite[]; metadata: Record<string, string> } {
  assertValidProfile(profile);
  const dimension = profile.mean.length;
  const tensors: TensorToWrite[] = [{ name: 'mean', shape: [dimension], data: profile.mean }]; // (dim,)
  const bank = profile.bank ?? [];
  if (bank.length > 0) {
    const stacked = new Float32Array(bank.length * dimension); // (k, dim)
    bank.forEach((row, index) => stacked.set(row, index * dimension));
    tensors.push({ name: 'bank', shape: [bank.length, dimension], data: stacked });
  }
  const metadata = { adapter: profile.adapter, embedder: canonicalEmbedderRef(profile.embedder), count: String(profile.count), profileFormat: PROFILE_FORMAT_VERSION };
  return { tensors, metadata };
}

/** Reads a profile file; refuses one whose metadata names another adapter or embedder. */
export async function decodeProfile(reader: SafetensorsReader, adapter: string, embedder: EmbedderRef): Promise<TaskProfile> {
  const corrupt = (problem: string): never => {
    throw new LoraTleError('E_STORE_MANIFEST', `${reader.label}: ${problem}; rebuild the profile with \`lora-tle profile\``);
  };
  const metadata = reader.metadata ?? {};
  let stored: EmbedderRef;
  try {
    stored = JSON.parse(metadata.embedder ?? 'null') as EmbedderRef;
  } catch {
    return corrupt('__metadata__.embedder is not JSON');
  }
  if (metadata.adapter !== adapter) corrupt(`the file belongs to adapter ${JSON.stringify(metadata.adapter)}, not "${adapter}"`);
  if (stored === null || typeof stored !== 'object' || !sameEmbedder({ id: String(stored.id), settings: stored.settings ?? {} }, embedder)) {
    throw new LoraTleError('E_PROFILE_EMBEDDER', `${reader.label} was made by embedder ${metadata.embedder ?? '(unknown)'}, not ${canonicalEmbedderRef(embedder)}; rebuild it with \`lora-tle profile\``);
  }
  const count = Number(metadata.count);
  if (!Number.isSafeInteger(count) || count < 1) corrupt('__metadata__.count is not a positive integer');
  const meanInfo = reader.info('mean');
  if (meanInfo.shape.length !== 1 || meanInfo.elementCount === 0) corrupt(`mean has shape [${meanInfo.shape}], expected [dim]`);
  const mean = await reader.readTensor('mean'); // (dim,)
  const profile: TaskProfile = { adapter, embedder, mean, count };
  if (reader.has('bank')) {
    const bankInfo = reader.info('bank');
    const dimension = mean.length;
    if (bankInfo.shape.length !== 2 || bankInfo.shape[1] !== dimension) corrupt(`bank has shape [${bankInfo.shape}], expected [k, ${dimension}]`);
    const stacked = await reader.readTensor('bank'); // (k, dim)
    profile.bank = Array.from({ length: bankInfo.shape[0] as number }, (_, row) => stacked.slice(row * dimension, (row + 1) * dimension));
  }
  return profile;
}
